// A UTF-16 string builder in the per-render arena (AssemblyScript has no StringBuilder).
export class SB {
  ptr: usize;
  len: i32 = 0; // code units
  cap: i32;
  constructor(cap: i32 = 32) {
    this.cap = cap < 8 ? 8 : cap;
    this.ptr = __alloc(<usize>this.cap << 1);
  }
  grow(n: i32): void {
    let need = this.len + n;
    if (need <= this.cap) return;
    let cap = this.cap << 1;
    while (cap < need) cap <<= 1;
    let p = __alloc(<usize>cap << 1);
    memory.copy(p, this.ptr, <usize>this.len << 1);
    this.ptr = p;
    this.cap = cap;
  }
  ch(c: i32): void {
    if (this.len == this.cap) this.grow(1);
    store<u16>(this.ptr + (<usize>this.len << 1), <u16>c);
    this.len++;
  }
  str(s: string): void {
    let n = s.length;
    this.grow(n);
    memory.copy(this.ptr + (<usize>this.len << 1), changetype<usize>(s), <usize>n << 1);
    this.len += n;
  }
  // appends s[from, to)
  part(s: string, from: i32, to: i32): void {
    let n = to - from;
    if (n <= 0) return;
    this.grow(n);
    memory.copy(this.ptr + (<usize>this.len << 1), changetype<usize>(s) + (<usize>from << 1), <usize>n << 1);
    this.len += n;
  }
  // appends the ASCII bytes [p, p+n), one unit each
  ascii(p: usize, n: i32): void {
    if (n <= 0) return;
    this.grow(n);
    let dst = this.ptr + (<usize>this.len << 1);
    for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), load<u8>(p + <usize>i));
    this.len += n;
  }
  toString(): string {
    return String.UTF16.decodeUnsafe(this.ptr, <usize>this.len << 1);
  }
}
