// writeApi(): an API document as a throwaway JSON file in the test's t.testdir().
//
//   const file = writeApi(t, { openapi: '3.0.1', info: {...}, paths: {...} })
//
// Several calls in one test keep each other's files (t.testdir() is created once per test,
// and removed by tap when the test ends). Give a `.yaml` name if the loader should see a
// YAML file: JSON is valid YAML.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The part of a tap Test that writeApi needs. */
export interface TestdirOwner {
  testdir(): string
  readonly testdirName: string
}

const created = new WeakSet<TestdirOwner>()

// A gateway config's account throttling that a test's load cannot reach, for tests that
// measure something else (a split, loss, duplication) with more than the account default's
// 10 000 req/s (burst 5000), which a fast machine reaches.
export const UNTHROTTLED = { rateLimit: 1_000_000, burstLimit: 1_000_000 }

export function writeApi (t: TestdirOwner, doc: object, name = 'api.json'): string {
  let dir: string
  if (created.has(t)) {
    dir = t.testdirName
  } else {
    dir = t.testdir()
    created.add(t)
  }
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n')
  return file
}

/** A MOCK integration answering 200 with `body` (its application/json response template). */
export function mockIntegration (body = '{"ok":true}') {
  return {
    type: 'mock',
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    responses: { default: { statusCode: '200', responseTemplates: { 'application/json': body } } },
  }
}

/** An OpenAPI 3 document titled `title` with `paths`. */
export function apiDoc (title: string, paths: Record<string, unknown>) {
  return { openapi: '3.0.1', info: { title, version: '1' }, paths }
}
