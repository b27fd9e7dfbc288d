const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n)
}

/** $context.requestTime: CLF format in UTC, `25/Nov/2026:13:53:06 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs)
  return (
    pad2(d.getUTCDate()) + '/' + MONTHS[d.getUTCMonth()] + '/' + d.getUTCFullYear() + ':' +
    pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + ' +0000'
  )
}
