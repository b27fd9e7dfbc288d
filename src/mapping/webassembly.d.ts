// The slice of the WebAssembly JS API that engine.ts uses. @types/node 20 does not declare it and the
// repository compiles without lib.dom; drop this shim when either starts providing these types.
declare namespace WebAssembly {
  interface Memory { readonly buffer: ArrayBuffer; grow (delta: number): number }
  interface Module { readonly __brand?: 'WebAssembly.Module' }
  interface Instance { readonly exports: Record<string, unknown> }
  type Imports = Record<string, Record<string, unknown>>
  const Module: { new (bytes: ArrayBufferView | ArrayBuffer): Module }
  const Instance: { new (module: Module, imports?: Imports): Instance }
}
