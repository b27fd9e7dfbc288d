// Query strings as API Gateway reads them: form-decoded names and values, in order.

/** Form-decoding of one query component: `+` is a space; malformed escapes stay as sent. */
export function decodeQueryComponent(s: string): string {
  if (s.indexOf('+') !== -1) s = s.replace(/\+/g, ' ')
  if (s.indexOf('%') === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Query string (no '?') → name → values, in order of appearance. */
export function parseQuery(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  if (query === '') return out
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodeQueryComponent(eq === -1 ? part : part.slice(0, eq))
    const value = eq === -1 ? '' : decodeQueryComponent(part.slice(eq + 1))
    const list = out.get(name)
    if (list === undefined) out.set(name, [value])
    else list.push(value)
  }
  return out
}
