// Byte-level helpers for ASCII text on the hot path.

/** Lower-cases an ASCII header name; returns the input itself when already lower-case. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 65 && c <= 90) return s.toLowerCase()
  }
  return s
}
