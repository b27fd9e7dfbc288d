export const enum CharCode {
  TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, BANG = 0x21, DQUOTE = 0x22, HASH = 0x23, DOLLAR = 0x24,
  PERCENT = 0x25, AMP = 0x26, SQUOTE = 0x27, LPAREN = 0x28, RPAREN = 0x29, STAR = 0x2a, PLUS = 0x2b,
  COMMA = 0x2c, MINUS = 0x2d, DOT = 0x2e, SLASH = 0x2f, _0 = 0x30, _9 = 0x39, COLON = 0x3a, LT = 0x3c,
  EQ = 0x3d, GT = 0x3e, QUESTION = 0x3f, AT = 0x40, A = 0x41, Z = 0x5a, LBRACKET = 0x5b, BACKSLASH = 0x5c,
  RBRACKET = 0x5d, UNDERSCORE = 0x5f, a = 0x61, z = 0x7a, LBRACE = 0x7b, PIPE = 0x7c, RBRACE = 0x7d,
}

// @ts-ignore: decorator
@inline export function isDigit(c: i32): bool { return <u32>(c - 0x30) < 10; }
// @ts-ignore: decorator
@inline export function isAlpha(c: i32): bool { return <u32>((c | 0x20) - 0x61) < 26; }
// Velocity 1.7 identifiers: ( letter | '_' ) ( letter | digit | '-' | '_' )*
// @ts-ignore: decorator
@inline export function isIdentStart(c: i32): bool { return isAlpha(c) || c == CharCode.UNDERSCORE; }
// @ts-ignore: decorator
@inline export function isIdentPart(c: i32): bool {
  return isAlpha(c) || isDigit(c) || c == CharCode.UNDERSCORE || c == CharCode.MINUS;
}
// @ts-ignore: decorator
@inline export function isSpace(c: i32): bool {
  return c == CharCode.SPACE || c == CharCode.TAB || c == CharCode.LF || c == CharCode.CR;
}
// @ts-ignore: decorator
@inline export function charAt16(s: string, i: i32): i32 {
  return <i32>load<u16>(changetype<usize>(s) + (<usize>i << 1));
}
