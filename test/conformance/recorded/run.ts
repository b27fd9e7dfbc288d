// Runs a file of recorded cases (test/conformance/recorded/*.json) against the real gateway.
//
// Each file holds groups; a group names the AWS-validated LocalStack snapshot and test it comes
// from, says in its own words how that test defines the API, gives that definition as an OpenAPI
// document (BACKEND_URL stands for the loopback backend below) and lists the requests with the
// status, headers and body that real API Gateway answered. One gateway serves each group.
//
// The backend plays the parts the recorded tests gave to other services:
//   POST /echo-json   answers {"json": <the request body parsed as JSON, or null>} (the tests'
//                     echo_http_server_post)
//   POST /raw         answers the request body as it came (a Lambda URL returning event.body)
// and `functions` (name → module text) stand for the tests' Lambda functions, restated in JavaScript.
//   anything else     answers {"method", "path" (no query), "args" (the query string as an object),
//                     "data" (the body as text)}, as the tests' echo server reported
//
// A group with `check` instead of `cases` runs `backplane check` on the file and asserts its exit
// code and the problem it prints (a file API Gateway refuses to import is refused here too).
import http from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { basename, dirname, join } from 'node:path'
import { startGateway, writeApi } from '../../helpers/index.js'
import { CLI_PATH, REPO_ROOT } from '../../helpers/gateway.js'

/** Bounds one request to the gateway. */
const REQUEST_TIMEOUT_MS = 10_000

export interface RecordedRequest {
  method: string
  /** Sent as written, without normalization: '//dev/x' and '%2e%2e' reach the gateway as they are. */
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface RecordedResponse {
  status: number
  /** Each named header must be present with this value (names compare case-insensitively). */
  headers?: Record<string, string>
  /** Exact body text… */
  body?: string
  /** …or the body parsed as JSON, compared exactly. */
  json?: unknown
}

export interface RecordedCase {
  /** The snapshot key (or the test's own step) this case pins. */
  key: string
  request: RecordedRequest
  response: RecordedResponse
}

export interface RecordedCheck {
  /** File name (its extension picks the parser) and text. */
  file: string
  text: string
  /** Expected exit code of `backplane check`. */
  exit: number
  /** A regular expression the printed problems must match. */
  stderr: string
}

export interface RecordedGroup {
  source: { snapshot: string | null; test: string }
  /** How the recorded test set up the API, in our words. */
  definition: string
  stage?: string
  /** Stage variables (BACKEND_HOST stands for the backend's host:port). */
  stageVariables?: Record<string, string>
  api?: Record<string, unknown>
  /** Lambda functions the API calls: name → ES module text exporting `handler` (our restatement of the recorded function). */
  functions?: Record<string, string>
  cases?: RecordedCase[]
  check?: RecordedCheck
}

export interface RecordedFile {
  about: string
  groups: RecordedGroup[]
}

export function loadRecorded (name: string): RecordedFile {
  return JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as RecordedFile
}

interface Backend { url: string; close(): Promise<void> }

async function startBackend (): Promise<Backend> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (req.url === '/echo-json') {
        let json: unknown = null
        try { json = body.length === 0 ? null : JSON.parse(body.toString('utf8')) } catch { json = null }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ json }))
      } else if (req.url === '/raw') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      } else {
        const url = new URL(req.url ?? '/', 'http://backend')
        const echoed = { method: req.method, path: url.pathname, args: Object.fromEntries(url.searchParams), data: body.toString('utf8') }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echoed))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

/** node:http sends the path exactly as given (undici and fetch would resolve dot segments). */
function send (port: number, r: RecordedRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers ?? {}, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(r.body)
  })
}

/** One tap subtest per group, one per case inside it. */
export function runRecorded (t: Test, file: RecordedFile): void {
  for (const group of file.groups) {
    t.test(`${group.source.test}`, async (t) => {
      if (group.check !== undefined) {
        const c = group.check
        const path = join(t.testdir({ [c.file]: c.text }), c.file)
        const r = spawnSync(process.execPath, [CLI_PATH, 'check', path], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 })
        t.equal(r.status, c.exit, `check exits ${c.exit}`, { recorded: group.source })
        t.match(r.stderr, new RegExp(c.stderr), 'the problem printed', { recorded: group.source })
        return
      }
      const backend = await startBackend()
      t.teardown(backend.close)
      const doc = JSON.parse(JSON.stringify(group.api).replaceAll('BACKEND_URL', backend.url)) as object
      const vars = Object.entries(group.stageVariables ?? {}).flatMap(([k, v]) => ['--stage-var', `${k}=${v.replaceAll('BACKEND_HOST', backend.url.slice('http://'.length))}`])
      const apiFile = writeApi(t, doc)
      let args = [apiFile, '--stage', group.stage ?? 'test', ...vars]
      if (group.functions !== undefined) {
        // Functions need the gateway config: the API served as id "api", each function a local module.
        const dir = dirname(apiFile)
        const functions: Record<string, { handler: string }> = {}
        for (const [name, source] of Object.entries(group.functions)) {
          writeFileSync(join(dir, `${name}.mjs`), source)
          functions[name] = { handler: `./${name}.mjs#handler` }
        }
        writeFileSync(join(dir, 'backplane.json'), JSON.stringify({ workers: 1, apis: [{ id: 'api', file: basename(apiFile), stages: { [group.stage ?? 'test']: {} } }], functions }))
        args = ['--config', join(dir, 'backplane.json'), ...vars]
      }
      const gw = await startGateway({ args })
      t.teardown(gw.stop)
      for (const c of group.cases ?? []) {
        const res = await send(gw.port, c.request)
        const want = c.response
        // diagnostics on failure (tap's own `source` key is for a code excerpt)
        const where = { recorded: group.source, key: c.key, request: c.request }
        t.equal(res.status, want.status, `${c.key}: status ${want.status}`, where)
        for (const [name, value] of Object.entries(want.headers ?? {})) {
          t.equal(res.headers[name.toLowerCase()], value, `${c.key}: header ${name}`, where)
        }
        if (want.body !== undefined) t.equal(res.body, want.body, `${c.key}: body`, where)
        if (want.json !== undefined) {
          let parsed: unknown
          try { parsed = JSON.parse(res.body) } catch { parsed = res.body }
          t.strictSame(parsed, want.json, `${c.key}: JSON body`, where)
        }
      }
    })
  }
}
