// Interned JSON object keys. A payload of 100 objects of one shape names each key 100 times: the
// parser decodes each distinct key once per render, and a key the template names (`$item.id`) is the
// template's own string, so the evaluator's map lookup matches it by pointer.
//
// A fixed open-addressed table of SLOTS (hash, generation, string). Entries a compile adds are
// persistent (generation 0: the strings live below the arena mark); entries a render adds carry that
// render's generation and are stale, hence free, once the next render starts. The table is only a
// cache: a key it misses is decoded as before, and lookups compare contents, never pointers alone.
const SLOTS: i32 = 1024; // power of two
const PROBES: i32 = 8;
const MAX_KEY: i32 = 64; // longer keys are not interned
const EMPTY: u32 = 0xffffffff;
const PERSISTENT: u32 = 0;

// per slot: u32 hash · u32 generation · u32 string pointer
const TABLE: usize = memory.data(SLOTS * 12, 16);
let gen: u32 = 1;
let initialized: bool = false;

function init(): void {
  for (let i = 0; i < SLOTS; i++) store<u32>(TABLE + <usize>i * 12 + 4, EMPTY);
  initialized = true;
}

// Starts a render: the previous render's entries become free.
export function nextGeneration(): void {
  if (!initialized) init();
  gen++;
  if (gen >= EMPTY - 1) {
    // wrapped: drop every render entry so that no stale generation comes back as current
    for (let i = 0; i < SLOTS; i++) {
      let at = TABLE + <usize>i * 12 + 4;
      if (load<u32>(at) != PERSISTENT) store<u32>(at, EMPTY);
    }
    gen = 1;
  }
}

// FNV-1a over the key's bytes (ASCII only: the caller checks)
// @ts-ignore: decorator
@inline function hashBytes(p: usize, n: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + <usize>i)) * 0x01000193;
  return h;
}

function sameText(s: string, p: usize, n: i32): bool {
  if (s.length != n) return false;
  let q = changetype<usize>(s);
  for (let i = 0; i < n; i++) if (<u32>load<u16>(q + (<usize>i << 1)) != <u32>load<u8>(p + <usize>i)) return false;
  return true;
}

// The interned string of the ASCII bytes [p, p+n), or null (the caller decodes, then may `remember`).
export function lookupKey(p: usize, n: i32, h: u32): string | null {
  let i = <i32>h & (SLOTS - 1);
  for (let k = 0; k < PROBES; k++) {
    let at = TABLE + <usize>((i + k) & (SLOTS - 1)) * 12;
    let g = load<u32>(at + 4);
    if (g == EMPTY) return null;
    if ((g == gen || g == PERSISTENT) && load<u32>(at) == h) {
      let s = changetype<string>(<usize>load<u32>(at + 8));
      if (sameText(s, p, n)) return s;
    }
  }
  return null;
}

function put(s: string, h: u32, g: u32): void {
  let i = <i32>h & (SLOTS - 1);
  for (let k = 0; k < PROBES; k++) {
    let at = TABLE + <usize>((i + k) & (SLOTS - 1)) * 12;
    let e = load<u32>(at + 4);
    if (e == EMPTY || (e != PERSISTENT && e != gen) || (g == PERSISTENT && e != PERSISTENT)) {
      store<u32>(at, h);
      store<u32>(at + 4, g);
      store<u32>(at + 8, <u32>changetype<usize>(s));
      return;
    }
  }
  // the neighbourhood is full: the key simply stays un-interned
}

// Adds a key decoded by this render.
export function rememberKey(s: string, h: u32): void { put(s, h, gen); }

// Hash of ASCII bytes, exported so that the JSON scanner and the table agree.
export function keyHash(p: usize, n: i32): u32 { return hashBytes(p, n); }

export function internable(n: i32): bool { return n <= MAX_KEY; }

// A compile registers the property names its template uses (persistent strings). Only ASCII names
// qualify, since the table compares a UTF-16 name with the key's bytes one unit per byte.
export function internPersistent(s: string): void {
  if (!initialized) init();
  let n = s.length;
  if (n > MAX_KEY) return;
  let q = changetype<usize>(s);
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u16>(q + (<usize>i << 1));
    if (c >= 0x80) return;
    h = (h ^ c) * 0x01000193;
  }
  // already there (the same name in another template)?
  let i0 = <i32>h & (SLOTS - 1);
  for (let k = 0; k < PROBES; k++) {
    let at = TABLE + <usize>((i0 + k) & (SLOTS - 1)) * 12;
    if (load<u32>(at + 4) == PERSISTENT && load<u32>(at) == h &&
      changetype<string>(<usize>load<u32>(at + 8)) == s) return;
  }
  put(s, h, PERSISTENT);
}
