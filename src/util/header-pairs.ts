// Header lists as flat pairs [name0, value0, name1, value1, …]: the shape every reply and
// backend request uses, so no per-request object is built for headers.

/** The value of the first header named `name` (compared case-insensitively), or null. */
export function findHeader(headers: readonly string[], name: string): string | null {
  const lower = name.toLowerCase()
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lower) return headers[i + 1]!
  return null
}

/** Replaces the value of the header named `name` (case-insensitively), or appends it. */
export function setHeader(headers: string[], name: string, value: string): void {
  const lower = name.toLowerCase()
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === lower) {
      headers[i + 1] = value
      return
    }
  }
  headers.push(name, value)
}
