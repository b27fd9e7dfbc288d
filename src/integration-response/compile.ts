// Integration response, compile step: selection patterns, response parameters and templates.
import type { ContentHandling, IntegrationResponseSource } from '../config/model.js'

export interface CompiledIntegrationResponse {
  /** null for the default response. */
  readonly pattern: RegExp | null
  readonly statusCode: number
  readonly responseParameters: readonly { readonly header: string; readonly source: string }[]
  readonly responseTemplates: Readonly<Record<string, string>>
  readonly contentHandling: ContentHandling | null
}

export function compileResponses(list: readonly IntegrationResponseSource[]): { responses: CompiledIntegrationResponse[]; defaultResponse: CompiledIntegrationResponse | null } {
  const responses: CompiledIntegrationResponse[] = []
  let defaultResponse: CompiledIntegrationResponse | null = null
  for (const r of list) {
    const compiled: CompiledIntegrationResponse = Object.freeze({
      // Java's String.matches semantics: the whole input must match; '.' also matches newlines (DOTALL is what API Gateway's Lambda errorMessage matching needs).
      pattern: r.selectionPattern === 'default' ? null : new RegExp(`^(?:${r.selectionPattern})$`, 's'),
      statusCode: Number(r.statusCode),
      responseParameters: Object.freeze(Object.entries(r.responseParameters).map(([k, v]) => Object.freeze({ header: k.slice('method.response.header.'.length), source: v }))),
      responseTemplates: Object.freeze({ ...r.responseTemplates }),
      contentHandling: r.contentHandling,
    })
    if (compiled.pattern === null) defaultResponse = compiled
    else responses.push(compiled)
  }
  return { responses, defaultResponse }
}
