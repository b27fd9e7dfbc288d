// Placeholder ABI until the mapping engine lands (issue 3).
export function abiVersion(): i32 {
  return 1;
}
