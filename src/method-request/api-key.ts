// API keys, compile step and run step: methods that require a key (apiKeyRequired, the
// Swagger `api_key` security scheme) check it against the gateway config's keys and usage plans.
import { Codes, type ConfigProblem } from '../errors.js'
import type { ApiSource, OperationSource } from '../config/model.js'
import type { MethodRequestStep } from './step.js'

/** The API key step of a method, or null when it requires no key. */
export function compileApiKeyStep(op: OperationSource, cx: { readonly api: ApiSource; readonly problems: ConfigProblem[] }): MethodRequestStep | null {
  if (!op.apiKeyRequired) return null
  // Safe by construction: refused until the key check exists, never served open.
  cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: op.securityPointer === '' ? op.pointer : op.securityPointer, message: `the method ${op.method} ${op.path} requires an API key, which the gateway cannot check yet; it is refused rather than served open`, severity: 'error' })
  return null
}
