// Java regular expressions (java.util.regex) run on JavaScript RegExp, for String.matches, replaceAll,
// replaceFirst and split called from mapping templates. The syntax both share covers what templates
// use; Java-only constructs are translated where JavaScript has an equivalent and rejected otherwise.

const CACHE_LIMIT = 256 // distinct patterns per worker; templates use a handful

export type SplitResult = string[]

export class JavaRegexCache {
  readonly #find = new Map<string, RegExp | null>()
  readonly #whole = new Map<string, RegExp | null>()

  /** A global RegExp for find/replace/split, or null when the pattern is not valid. */
  find (pattern: string): RegExp | null {
    let re = this.#find.get(pattern)
    if (re === undefined) {
      re = translate(pattern, false)
      if (this.#find.size >= CACHE_LIMIT) this.#find.clear()
      this.#find.set(pattern, re)
    }
    if (re !== null) re.lastIndex = 0
    return re
  }

  /** An anchored RegExp for String.matches. */
  whole (pattern: string): RegExp | null {
    let re = this.#whole.get(pattern)
    if (re === undefined) {
      re = translate(pattern, true)
      if (this.#whole.size >= CACHE_LIMIT) this.#whole.clear()
      this.#whole.set(pattern, re)
    }
    return re
  }
}

function translate (pattern: string, whole: boolean): RegExp | null {
  let flags = 'g'
  let src = pattern
  // leading inline flags: (?i) (?s) (?m) (?x is not supported)
  const inline = /^\(\?([imsu]+)\)/.exec(src)
  if (inline !== null) {
    for (const f of inline[1]!) if (!flags.includes(f)) flags += f === 'u' ? '' : f
    src = src.slice(inline[0].length)
  }
  // possessive quantifiers and atomic groups have no JavaScript form
  if (/(?:[*+?}])\+/.test(src.replace(/\\./g, 'x')) || src.includes('(?>')) return null
  src = src.replace(/\\[AZz]/g, (m) => (m === '\\A' ? '^' : '$'))
  if (whole) src = `^(?:${src})$`
  try {
    return new RegExp(src, flags)
  } catch {
    try {
      return new RegExp(src, flags + 'u')
    } catch {
      return null
    }
  }
}

/** Java's Matcher.appendReplacement syntax: $n, ${name}, and \x for a literal x. Null when invalid. */
export function javaReplace (input: string, re: RegExp, replacement: string, all: boolean): string | null {
  let out = ''
  let last = 0
  re.lastIndex = 0
  for (;;) {
    const m = re.exec(input)
    if (m === null) break
    out += input.slice(last, m.index)
    const r = expand(replacement, m)
    if (r === null) return null
    out += r
    last = m.index + m[0].length
    if (!all) break
    if (m[0].length === 0) {
      if (m.index >= input.length) break
      re.lastIndex = m.index + 1
    }
  }
  return out + input.slice(last)
}

function expand (rep: string, m: RegExpExecArray): string | null {
  if (!rep.includes('$') && !rep.includes('\\')) return rep
  let out = ''
  for (let i = 0; i < rep.length; i++) {
    const c = rep[i]!
    if (c === '\\') {
      i++
      if (i >= rep.length) return null
      out += rep[i]
    } else if (c === '$') {
      i++
      if (i >= rep.length) return null
      if (rep[i] === '{') {
        const close = rep.indexOf('}', i)
        if (close < 0) return null
        const name = rep.slice(i + 1, close)
        const g = m.groups?.[name]
        if (g === undefined && !(m.groups !== undefined && name in m.groups)) return null
        out += g ?? ''
        i = close
      } else {
        let n = rep.charCodeAt(i) - 48
        if (n < 0 || n > 9 || n >= m.length) return null
        // Java takes more digits while they still name a group
        while (i + 1 < rep.length) {
          const d = rep.charCodeAt(i + 1) - 48
          if (d < 0 || d > 9 || n * 10 + d >= m.length) break
          n = n * 10 + d
          i++
        }
        out += m[n] ?? ''
      }
    } else {
      out += c
    }
  }
  return out
}

/** String.split(regex, limit) with Java's rules (trailing empty strings dropped when limit is 0). */
export function javaSplit (input: string, re: RegExp, limit: number): SplitResult {
  const parts: string[] = []
  let index = 0
  re.lastIndex = 0
  for (;;) {
    if (limit > 0 && parts.length >= limit - 1) break
    const m = re.exec(input)
    if (m === null) break
    const start = m.index
    const end = start + m[0].length
    if (m[0].length === 0) {
      re.lastIndex++
      if (start >= input.length) break
      if (start === 0) continue // a zero-width match at the start never yields a leading ""
    }
    parts.push(input.slice(index, start))
    index = end
  }
  if (index === 0 && parts.length === 0) return [input]
  parts.push(input.slice(index))
  if (limit === 0) while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}
