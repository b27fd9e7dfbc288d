// Mirror of assembly/abi.ts: the WASM boundary of the mapping engine. Change both together
// (test/mapping/abi-mirror.test.ts compares them). Layouts and imports (env.abort, env.regex,
// env.dtoa) are documented there; the constants below must match it word for word.

export const ABI_VERSION = 4

// a plain object rather than a const enum, so transpile-only loaders see the same values
export const Status = {
  OK: 0,
  PARSE_ERROR: 1,
  RUNTIME_ERROR: 2,
  OUTPUT_TOO_LARGE: 3,
  BAD_TEMPLATE_ID: 4,
} as const

export const TAG_NULL = 0
export const TAG_FALSE = 1
export const TAG_TRUE = 2
export const TAG_NUMBER = 3
export const TAG_STRING = 4
export const TAG_OBJECT = 5
export const TAG_ARRAY = 6
export const TAG_INTEGER = 7

export const BODY_NULL = 0xffffffff

export const HDR_PATH = 0
export const HDR_QUERYSTRING = 1
export const HDR_HEADER = 2
export const HDR_CONTEXT = 3
export const HDR_STAGE = 4
export const HDR_BODY = 5
export const HDR_WORDS = 6

export const RESULT_OUTPUT_PTR = 0
export const RESULT_OUTPUT_LEN = 1
export const RESULT_OVERRIDES_PTR = 2
export const RESULT_OVERRIDES_LEN = 3
export const RESULT_MESSAGE_PTR = 4
export const RESULT_MESSAGE_LEN = 5
export const RESULT_LINE = 6
export const RESULT_COLUMN = 7
export const RESULT_HOST_CALLS = 8
export const RESULT_USES = 9
export const RESULT_WORDS = 10

export const USES_PARAMS = 1
export const USES_CONTEXT = 2
export const USES_STAGE = 4
export const USES_BODY = 8

export const REGEX_MATCHES = 0
export const REGEX_REPLACE_ALL = 1
export const REGEX_REPLACE_FIRST = 2
export const REGEX_SPLIT = 3
export const REGEX_BAD_PATTERN = -1

export const MAX_OUTPUT_BYTES = 10 * 1024 * 1024

/** The module's exports, as engine.ts uses them. */
export interface MappingExports {
  memory: WebAssembly.Memory
  abiVersion(): number
  result(): number
  reserve(bytes: number): number
  compile(ptr: number, units: number): number
  render(id: number, ptr: number, bytes: number): number
  trapForTest(): void
}
