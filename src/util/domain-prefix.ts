// $context.domainPrefix: the host's first label ('api.example.com' → 'api'; a host without a dot
// is its own prefix). indexOf and one slice, not split: split built an array per request (~5 % of
// the mock route's CPU in perf).
export function domainPrefix(host: string): string {
  const dot = host.indexOf('.')
  return dot === -1 ? host : host.slice(0, dot)
}
