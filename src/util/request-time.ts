const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n)
}

// Every request of one second shares its text: templates, Lambda events and access logs ask
// for it per request, and building it (a Date, seven string pieces) showed in the mock profile.
let cachedSecond = Number.NaN
let cachedText = ''

/** $context.requestTime: CLF format in UTC, `25/Nov/2026:13:53:06 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000)
  if (second === cachedSecond) return cachedText
  const d = new Date(second * 1000)
  cachedText =
    pad2(d.getUTCDate()) + '/' + MONTHS[d.getUTCMonth()] + '/' + d.getUTCFullYear() + ':' +
    pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + ' +0000'
  cachedSecond = second
  return cachedText
}
