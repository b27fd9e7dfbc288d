// Installs the WASM mapping engine as the worker's template renderer.
// Until the engine lands (issue 3), templates render literally (pipeline/templates.ts).
export function installMappingEngine(): void {}
