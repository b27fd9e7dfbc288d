// Secrets in the gateway config may be written as `${env:NAME}`: the value is read from the
// environment at load. The value itself is never put in a message (only the variable's name).
import { Codes, type ConfigProblem } from '../errors.js'

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g

/** Replaces every `${env:NAME}` in `text`; a variable that is not set is an error at `pointer`. */
export function resolveEnvRefs(text: string, file: string, pointer: string, problems: ConfigProblem[], env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(ENV_REF, (_m, name: string) => {
    const v = env[name]
    if (v === undefined) {
      problems.push({ code: Codes.SECRET, file, pointer, message: `environment variable ${name} is not set`, severity: 'error' })
      return ''
    }
    return v
  })
}
