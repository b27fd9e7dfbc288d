// Method and property names, resolved to ids once at compile time.
export const enum M {
  UNKNOWN = 0,
  SIZE, GET, PUT, ADD, KEY_SET, CONTAINS_KEY, IS_EMPTY, LENGTH, SUBSTRING, INDEX_OF, LAST_INDEX_OF,
  REPLACE, REPLACE_ALL, REPLACE_FIRST, MATCHES, SPLIT, TO_LOWER_CASE, TO_UPPER_CASE, TRIM, CONTAINS,
  STARTS_WITH, ENDS_WITH, EQUALS, EQUALS_IGNORE_CASE, CHAR_AT, CONCAT, TO_STRING, VALUES, ENTRY_SET,
  REMOVE, CONTAINS_VALUE, SET, GET_KEY, GET_VALUE, COMPARE_TO, ADD_ALL, PUT_ALL,
  // $input
  JSON, PATH, PARAMS, BODY,
  // $util
  ESCAPE_JAVASCRIPT, PARSE_JSON, URL_ENCODE, URL_DECODE, BASE64_ENCODE, BASE64_DECODE,
  // properties
  HAS_NEXT, INDEX, COUNT, FIRST, LAST, EMPTY, KEY, VALUE,
}

const NAMES: string[] = [
  "", "size", "get", "put", "add", "keySet", "containsKey", "isEmpty", "length", "substring", "indexOf",
  "lastIndexOf", "replace", "replaceAll", "replaceFirst", "matches", "split", "toLowerCase", "toUpperCase",
  "trim", "contains", "startsWith", "endsWith", "equals", "equalsIgnoreCase", "charAt", "concat", "toString",
  "values", "entrySet", "remove", "containsValue", "set", "getKey", "getValue", "compareTo", "addAll", "putAll",
  "json", "path", "params", "body",
  "escapeJavaScript", "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode",
  "hasNext", "index", "count", "first", "last", "empty", "key", "value",
];

export function methodId(name: string): i32 {
  for (let i = 1; i < NAMES.length; i++) if (NAMES[i] == name) return i;
  return M.UNKNOWN;
}
