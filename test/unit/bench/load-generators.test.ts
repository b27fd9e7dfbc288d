// The bench's load generators and reference proxies: which generator runs (wrk cannot do a
// fixed rate), wrk's Lua script and figures line, the nginx/haproxy configs.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chooseGenerator } from '../../../bench/e2e/load.js'
import { luaString, parseWrkLine, wrkScript } from '../../../bench/e2e/wrk.js'
import { nginxConfig, haproxyConfig, NGINX_BIN, HAPROXY_BIN } from '../../../bench/e2e/native-proxies.js'

t.test('chooseGenerator: wrk by default when installed, autocannon for RATE and pipelining', async (t) => {
  const free = { rate: null, pipelining: 1 }
  t.equal(chooseGenerator(null, free, true), 'wrk')
  t.equal(chooseGenerator(null, free, false), 'autocannon', 'the fallback')
  t.equal(chooseGenerator(null, { rate: 3000, pipelining: 1 }, true), 'autocannon', 'wrk has no fixed rate')
  t.equal(chooseGenerator(null, { rate: null, pipelining: 4 }, true), 'autocannon')
  t.equal(chooseGenerator('autocannon', free, true), 'autocannon')
  t.throws(() => chooseGenerator('wrk', free, false), /not installed/)
  t.throws(() => chooseGenerator('wrk', { rate: 10, pipelining: 1 }, true), /fixed-rate/)
})

t.test('luaString escapes every byte a Lua literal could misread', async (t) => {
  t.equal(luaString('GET'), '"GET"')
  t.equal(luaString('a"b\\c\n'), '"a\\034b\\092c\\010"')
  t.equal(luaString('é'), '"\\195\\169"', 'utf8 bytes, one escape each')
})

t.test('wrkScript sets method, headers and body and prints the figures line', async (t) => {
  const script = wrkScript({ method: 'POST', headers: { 'x-api-key': 'k' }, body: '{"a":1}' })
  t.match(script, /^wrk\.method = "POST"$/m)
  t.match(script, /^wrk\.headers\["x\\045api\\045key"\] = "k"$/m)
  t.match(script, /^wrk\.body = "\\123\\034a\\034\\0581\\125"$/m)
  t.match(script, /latency:percentile\(p\)/)
  t.match(script, /ipairs\(\{ 50, 90, 99, 99\.9 \}\)/)
})

t.test('parseWrkLine reads counts, errors and µs percentiles', async (t) => {
  // requests duration_us bytes connect read write status timeout p50 p90 p99 p99.9 mean max
  const r = parseWrkLine('Running 1s test\nBENCH-WRK 2000 1000000 400000 0 1 0 10 2 500 900 2500 4000 610 9000\n')
  t.equal(r.generator, 'wrk')
  t.equal(r.ok, 1990, 'status errors (≥ 400) are not ok')
  t.equal(r.non2xx, 10)
  t.equal(r.errors, 3, 'read + timeouts')
  t.equal(r.rps, 1990)
  t.equal(r.seconds, 1)
  t.same(r.latencyMs, { p50: 0.5, p90: 0.9, p99: 2.5, 'p99.9': 4 })
  t.equal(r.maxMs, 9)
  t.throws(() => parseWrkLine('no figures'), /no figures line/)
  t.throws(() => parseWrkLine('BENCH-WRK 1 2 3'), /bad figures line/)
})

t.test('the nginx config: one process, upstream keepalive, accepted by nginx -t (where installed)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-nginx-test-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const text = nginxConfig(dir, 1, 'http://127.0.0.1:2')
  t.match(text, /master_process off;/)
  t.match(text, /keepalive 128;/)
  t.match(text, /location \/test\/proxy\/ \{\n\s+proxy_pass http:\/\/echo\/;/)
  if (!existsSync(NGINX_BIN)) return t.comment(`${NGINX_BIN} not installed: nginx -t not run`)
  writeFileSync(join(dir, 'nginx.conf'), text)
  const r = spawnSync(NGINX_BIN, ['-t', '-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8', timeout: 10_000 })
  t.equal(r.status, 0, r.stderr)
})

t.test('the haproxy config: one thread, connections reused, accepted by haproxy -c (where installed)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-haproxy-test-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const text = haproxyConfig(1, 'http://127.0.0.1:2')
  t.match(text, /nbthread 1/)
  t.match(text, /http-reuse always/)
  t.match(text, /replace-path \/test\/proxy\(\/\.\*\) \\1/)
  if (!existsSync(HAPROXY_BIN)) return t.comment(`${HAPROXY_BIN} not installed: haproxy -c not run`)
  writeFileSync(join(dir, 'haproxy.cfg'), text)
  const r = spawnSync(HAPROXY_BIN, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8', timeout: 10_000 })
  t.equal(r.status, 0, r.stdout + r.stderr)
})
