// Headless Chromium for the tests that need a real browser (CORS, preflights).
//
//   const browser = await launchBrowser(t)          // closed by t.teardown, bounded
//   const page = await browser.newPage()
//   const origin = await servePage(t, '<!doctype html><title>x</title>')
//   await page.goto(origin + '/')
//   const res = await pageFetch(page, `${gw.url}/test/items`, { method: 'PUT', ... })
//
// Which browser (resolveChromium(), first that applies):
//   1. BACKPLANE_CHROMIUM, a binary the user names;
//   2. Debian's chromium, /usr/bin/chromium, where it is installed (.ci/install-browser);
//   3. the Chromium that the npm package @sparticuz/chromium (a devDependency) ships inside
//      its tarball, brotli-packed: unpacked once into node_modules/.cache/ (≈ 3 s). It is
//      built to run without system libraries (it needs only glibc and libexpat), so
//      `npm install` is all a fresh Linux x64 machine needs. Nothing is downloaded.
// playwright-core drives it over its pipe. Each launch gets a fresh, throwaway user data
// dir (playwright creates it for the launch and removes it on close).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'

/** Debian's chromium package installs its binary here. */
export const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium'
/** Where the packaged Chromium is unpacked, one folder per package version. */
const CHROMIUM_CACHE = fileURLToPath(new URL('../../node_modules/.cache/backplane-chromium/', import.meta.url))
/** The installed @sparticuz/chromium package. */
const PACKAGED_CHROMIUM = fileURLToPath(new URL('../../node_modules/@sparticuz/chromium/', import.meta.url))

/** The system's or the packaged binary, in the order above. Unpacks the packaged one on first use. */
export async function resolveChromium (): Promise<string> {
  const named = process.env.BACKPLANE_CHROMIUM
  if (named !== undefined && named !== '') {
    if (!existsSync(named)) throw new Error(`BACKPLANE_CHROMIUM=${named} does not exist`)
    return named
  }
  if (existsSync(DEBIAN_CHROMIUM_PATH)) return DEBIAN_CHROMIUM_PATH
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`no browser: ${DEBIAN_CHROMIUM_PATH} is absent and @sparticuz/chromium ships Linux x64 only; install a Chromium (Debian: .ci/install-browser) or set BACKPLANE_CHROMIUM`)
  }
  return await unpackPackagedChromium()
}

/**
 * Unpacks @sparticuz/chromium into CHROMIUM_CACHE/<version>/ unless it is there. The package
 * unpacks into os.tmpdir() and reuses whatever `chromium` it finds there, so it is pointed
 * (through TMPDIR) at a fresh folder, which is renamed into place whole: two test processes
 * unpacking at once never see each other's half-written binary.
 */
async function unpackPackagedChromium (): Promise<string> {
  // The package's exports hide its package.json: read it from its folder.
  const version = (JSON.parse(readFileSync(join(PACKAGED_CHROMIUM, 'package.json'), 'utf8')) as { version: string }).version
  const dir = join(CHROMIUM_CACHE, version)
  const binary = join(dir, 'chromium')
  if (existsSync(binary)) return binary
  mkdirSync(CHROMIUM_CACHE, { recursive: true })
  const scratch = mkdtempSync(join(CHROMIUM_CACHE, `unpack-${version}-`))
  const savedTmp = process.env.TMPDIR
  try {
    process.env.TMPDIR = scratch
    const packaged = (await import('@sparticuz/chromium')).default
    const unpacked = await packaged.executablePath()
    if (unpacked !== join(scratch, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${unpacked}, not into ${scratch}`)
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true })
    throw err
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = savedTmp
  }
  try {
    renameSync(scratch, dir)
  } catch (err) {
    // Another process put its copy there first: use that one.
    rmSync(scratch, { recursive: true, force: true })
    if (!existsSync(binary)) throw err
  }
  return binary
}

/**
 * Chromium's own flags. playwright adds `--headless` (headless: true) and its defaults. Not
 * @sparticuz/chromium's `args`: they hold --disable-web-security, which turns CORS off.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', // root in CI, no user namespaces
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Launch, on a loaded 2-core machine (≈ 5 s when idle). */
export const BROWSER_LAUNCH_TIMEOUT_MS = 30_000
/** close(); past it the browser process is killed. */
export const BROWSER_CLOSE_TIMEOUT_MS = 10_000
/** One pageFetch(): the fetch in the page is aborted past it, and the evaluate bounded. */
export const PAGE_FETCH_TIMEOUT_MS = 10_000

/** The part of a tap Test that the helpers need. */
export interface TeardownOwner {
  teardown(fn: () => unknown): void
}

export interface TestBrowser {
  browser: Browser
  /** The context every newPage() shares (one per launch). */
  context: BrowserContext
  /** A page in the shared context; its default timeouts are bounded. */
  newPage(): Promise<Page>
  /** Close, bounded; kills the process past BROWSER_CLOSE_TIMEOUT_MS. Safe to call twice. */
  close(): Promise<void>
}

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export async function launchBrowser (t: TeardownOwner): Promise<TestBrowser> {
  const executablePath = await resolveChromium()
  // launchServer + connect rather than launch: the server's process() can be killed if
  // close() hangs, so a test never leaves a browser behind.
  const server = await chromium.launchServer({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    host: '127.0.0.1', // the control socket stays on loopback
    timeout: BROWSER_LAUNCH_TIMEOUT_MS,
    // tap ends the test process on its own timeout: let that end the browser as well.
    handleSIGINT: true,
    handleSIGTERM: true,
    handleSIGHUP: true
  })
  let closing: Promise<void> | undefined
  let browser: Browser | undefined // once connected
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await withTimeout((async () => {
          await browser?.close()
          await server.close()
        })(), BROWSER_CLOSE_TIMEOUT_MS, 'browser close')
      } catch {
        await withTimeout(server.kill(), BROWSER_CLOSE_TIMEOUT_MS, 'browser kill').catch(() => {
          server.process().kill('SIGKILL')
        })
      }
    })()
    return closing
  }
  t.teardown(close)
  let connected: Browser
  let context: BrowserContext
  try {
    browser = connected = await chromium.connect(server.wsEndpoint(), { timeout: BROWSER_LAUNCH_TIMEOUT_MS })
    context = await withTimeout(connected.newContext(), BROWSER_LAUNCH_TIMEOUT_MS, 'browser.newContext()')
  } catch (err) {
    await close()
    throw err
  }
  return {
    browser: connected,
    context,
    newPage: async () => {
      const page = await withTimeout(context.newPage(), BROWSER_LAUNCH_TIMEOUT_MS, 'context.newPage()')
      page.setDefaultTimeout(PAGE_FETCH_TIMEOUT_MS)
      page.setDefaultNavigationTimeout(PAGE_FETCH_TIMEOUT_MS)
      return page
    },
    close
  }
}

/**
 * A node:http server on 127.0.0.1 (its own port, so its own origin) that answers every
 * GET with `html`. Resolves to its origin, `http://127.0.0.1:PORT`; closed by t.teardown.
 */
export async function servePage (t: TeardownOwner, html: string): Promise<string> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end()
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html)
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** What a page's fetch() came to: the response as the page's script can read it, or its error. */
export type PageFetchResult =
  | { ok: true, status: number, body: string, contentType: string | null }
  | { ok: false, name: string, message: string }

export interface PageFetchInit {
  method?: string
  headers?: Record<string, string>
  body?: string
}

/**
 * Runs `fetch(url, init)` in the page's script (so with the page's origin, mode 'cors',
 * no cache) and returns what the script could read: the status and body text, or the
 * error's name and message (a CORS failure is a TypeError).
 */
export async function pageFetch (page: Page, url: string, init: PageFetchInit = {}): Promise<PageFetchResult> {
  return await withTimeout(page.evaluate(async ({ url, init, timeoutMs }) => {
    try {
      // `cache` is the browser's (Node's RequestInit type lacks it).
      const res = await fetch(url, { ...init, mode: 'cors', cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) } as RequestInit)
      return { ok: true as const, status: res.status, body: await res.text(), contentType: res.headers.get('content-type') }
    } catch (err) {
      const e = err as Error
      return { ok: false as const, name: e.name, message: e.message }
    }
  }, { url, init, timeoutMs: PAGE_FETCH_TIMEOUT_MS }), PAGE_FETCH_TIMEOUT_MS + 5_000, `fetch ${url} in the page`)
}

/** One request as Chromium's network stack saw it (from the DevTools protocol). */
export interface NetworkExchange {
  requestId: string
  /** 'Preflight' for a CORS preflight, else DevTools' resource type: 'Fetch', 'Document', ... */
  type: string
  method: string
  url: string
  /**
   * The headers as sent on the wire (lower-cased), Origin included, once the network stack
   * has sent them; until then the ones the page asked for.
   */
  requestHeaders: Record<string, string>
  status?: number
  /** The response headers as received (lower-cased). */
  responseHeaders?: Record<string, string>
  /** Set when the request failed, e.g. 'net::ERR_FAILED'. */
  errorText?: string
  /** The CORS error DevTools reports for a blocked request, e.g. 'PreflightMissingAllowOriginHeader'. */
  corsError?: string
  /** Set once Chromium has finished with it (loadingFinished or loadingFailed). */
  done?: boolean
  /** Position, in the log's event sequence, of the moment its headers went on the wire. */
  sentSeq?: number
  /** Position, in the log's event sequence, of the moment its response headers arrived. */
  answeredSeq?: number
}

export interface NetworkLog {
  /** Every request so far, in the order the page issued them (preflights included). */
  exchanges: NetworkExchange[]
  cdp: CDPSession
}

/**
 * Records the page's network traffic through the DevTools protocol, which, unlike
 * playwright's page.on('request'), also reports CORS preflights (initiator 'preflight')
 * and the headers Chromium really sent (Origin, Access-Control-Request-*).
 */
export async function recordNetwork (page: Page): Promise<NetworkLog> {
  const cdp = await page.context().newCDPSession(page)
  const exchanges: NetworkExchange[] = []
  const byId = new Map<string, NetworkExchange>()
  // The *ExtraInfo events may come before the event that opens their exchange.
  const early = new Map<string, Array<(x: NetworkExchange) => void>>()
  let seq = 0
  const withExchange = (id: string, fn: (x: NetworkExchange) => void): void => {
    const x = byId.get(id)
    if (x !== undefined) { fn(x); return }
    early.set(id, [...(early.get(id) ?? []), fn])
  }
  const lowerCase = (h: Record<string, unknown>): Record<string, string> =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]))
  cdp.on('Network.requestWillBeSent', (e) => {
    const x: NetworkExchange = {
      requestId: e.requestId,
      type: e.initiator.type === 'preflight' ? 'Preflight' : (e.type ?? ''),
      method: e.request.method,
      url: e.request.url,
      requestHeaders: lowerCase(e.request.headers)
    }
    byId.set(e.requestId, x)
    exchanges.push(x)
    for (const fn of early.get(e.requestId) ?? []) fn(x)
    early.delete(e.requestId)
  })
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const at = seq++
    withExchange(e.requestId, (x) => {
      x.requestHeaders = lowerCase(e.headers)
      x.sentSeq ??= at
    })
  })
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const at = seq++
    withExchange(e.requestId, (x) => {
      x.status ??= e.statusCode
      x.responseHeaders = lowerCase(e.headers)
      x.answeredSeq ??= at
    })
  })
  cdp.on('Network.responseReceived', (e) => {
    const at = seq++
    withExchange(e.requestId, (x) => {
      x.status = e.response.status
      x.responseHeaders ??= lowerCase(e.response.headers)
      x.answeredSeq ??= at
    })
  })
  cdp.on('Network.loadingFinished', (e) => {
    withExchange(e.requestId, (x) => { x.done = true })
  })
  cdp.on('Network.loadingFailed', (e) => {
    withExchange(e.requestId, (x) => {
      x.done = true
      x.errorText = e.errorText
      if (e.corsErrorStatus !== undefined) x.corsError = e.corsErrorStatus.corsError
    })
  })
  await cdp.send('Network.enable')
  return { exchanges, cdp }
}

/**
 * Waits (at most `ms`) until Chromium has finished with every exchange `select` returns:
 * DevTools may report a request's end, or why it was blocked, a moment after the page's
 * fetch() settled. Resolves to what `select` returns then.
 */
export async function settled (select: () => NetworkExchange[], ms = 2_000): Promise<NetworkExchange[]> {
  const until = Date.now() + ms
  let xs = select()
  while (Date.now() < until && (xs.length === 0 || xs.some((x) => x.done !== true))) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    xs = select()
  }
  return xs
}
