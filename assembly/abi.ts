// The WASM boundary of the mapping engine. Mirrored by src/mapping/abi.ts: change both together.
//
// Exports (all integers, no AssemblyScript bindings):
//   abiVersion() → i32
//   reserve(bytes) → ptr          scratch area for the next compile/render input (invalidated by the next call)
//   compile(ptr, units) → i32     template as UTF-16 code units at ptr; id ≥ 0 (RESULT_USES: the sections
//                                 it reads), or -1 (error in RESULT)
//   render(id, ptr, bytes) → i32  input record at ptr (layout below); returns a Status
//   result() → ptr                the RESULT block (RESULT_* word offsets, u32 each)
//
// Imports (module "env"):
//   abort(msg, file, line, col)   AssemblyScript's trap hook: the host throws, then rebuilds the instance
//   regex(op, pat, patUnits, str, strUnits, arg, argUnits, limit, out, outBytes) → i32
//       Java-compatible regular expressions run by the host (one crossing per call).
//       ret ≥ 0: bytes written at out; REGEX_BAD_PATTERN: invalid pattern; ret < REGEX_BAD_PATTERN: -ret bytes needed.
//   dtoa(value, out) → i32        shortest round-trip digits (JS Number#toString, ASCII, ≤ 32 bytes) of a
//       double the engine cannot format exactly by itself (17 significant digits, or outside 1e-22..2^53).
//
// Input record (little endian, every item 4-byte aligned; strings are u32 length in UTF-16 units + units, padded to 4):
//   header: HDR_WORDS u32 byte offsets from the record start, one per section, then the sections:
//   params.path (object) · params.querystring (object) · params.header (object) · context (value) ·
//   stageVariables (object) · body: u32 length (BODY_NULL when absent) + raw bytes (UTF-8).
//   Sections are decoded lazily: a template that never names $context never reads it.
// Value: u32 tag, then TAG_NUMBER/TAG_INTEGER: f64 as two u32 (lo, hi) · TAG_STRING: string ·
//   TAG_OBJECT: u32 count, count × (string key, value) · TAG_ARRAY: u32 count, count × value.
//
// Overrides (RESULT_OVERRIDES_PTR/LEN, same encoding): i32 status (-1 when unset), then six objects,
//   each a u32 count of (string, string) pairs: header (request and response headers merged),
//   querystring, path, request header, response header, and responseOverride's other keys.
//   The host may pass overrides back in $context.requestOverride / responseOverride (a later
//   template of the same request starts from them).

export const ABI_VERSION: i32 = 4;

export enum Status {
  OK = 0,
  PARSE_ERROR = 1,
  RUNTIME_ERROR = 2,
  OUTPUT_TOO_LARGE = 3,
  BAD_TEMPLATE_ID = 4,
}

export const TAG_NULL: u32 = 0;
export const TAG_FALSE: u32 = 1;
export const TAG_TRUE: u32 = 2;
export const TAG_NUMBER: u32 = 3;
export const TAG_STRING: u32 = 4;
export const TAG_OBJECT: u32 = 5;
export const TAG_ARRAY: u32 = 6;
export const TAG_INTEGER: u32 = 7;

export const BODY_NULL: u32 = 0xffffffff;

export const HDR_PATH = 0;
export const HDR_QUERYSTRING = 1;
export const HDR_HEADER = 2;
export const HDR_CONTEXT = 3;
export const HDR_STAGE = 4;
export const HDR_BODY = 5;
export const HDR_WORDS = 6;

// RESULT block: u32 words
export const RESULT_OUTPUT_PTR = 0;
export const RESULT_OUTPUT_LEN = 1;
export const RESULT_OVERRIDES_PTR = 2;
export const RESULT_OVERRIDES_LEN = 3;
export const RESULT_MESSAGE_PTR = 4; // UTF-16 units of the error message
export const RESULT_MESSAGE_LEN = 5;
export const RESULT_LINE = 6;
export const RESULT_COLUMN = 7;
export const RESULT_HOST_CALLS = 8; // regex crossings made by the last render
export const RESULT_USES = 9;       // after a compile: the USES_* sections the template can read
export const RESULT_WORDS = 10;

// Sections a template can read. The host leaves the others empty (an empty map, a null body): a
// template that never names $context costs no $context encoding.
export const USES_PARAMS: u32 = 1;  // params.path, params.querystring, params.header
export const USES_CONTEXT: u32 = 2;
export const USES_STAGE: u32 = 4;
export const USES_BODY: u32 = 8;

export const REGEX_MATCHES = 0;
export const REGEX_REPLACE_ALL = 1;
export const REGEX_REPLACE_FIRST = 2;
export const REGEX_SPLIT = 3;
export const REGEX_BAD_PATTERN = -1;

// API Gateway's payload limit is 10 MB: a template rendering more than this is an error, not a grown heap.
export const MAX_OUTPUT_BYTES: i32 = 10 * 1024 * 1024;
