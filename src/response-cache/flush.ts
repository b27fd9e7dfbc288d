// `backplane cache flush --config F --api ID --stage NAME`: FlushStageCache against running
// gateways. With state.redis the entries live in Redis, and the command deletes the stage's
// keys there itself (every gateway sharing that Redis sees the flush at once). Otherwise the
// cache lives in the gateway process's memory, and the command asks its admin listener
// (admin: in the config, or --admin URL): POST /cache/flush?api=ID&stage=NAME.
import { request } from 'undici'
import { loadGateway } from '../config/load.js'
import { stageSettingsOf } from '../config/stage-settings.js'
import { RedisCacheClient, redisStagePrefix } from './redis-store.js'

/** Bound on the admin request or the Redis flush: a gateway that does not answer is an error, not a hang. */
const FLUSH_TIMEOUT_MS = 10_000

export const CACHE_USAGE = `Usage:
  backplane cache flush --config backplane.yaml --api ID --stage NAME [--admin URL]
                                flush a stage's response cache (FlushStageCache) in the running gateways:
                                in Redis with state.redis, else through the gateway's admin listener
`

/** Exit codes as the CLI's: 0 flushed, 1 could not flush, 2 bad usage. */
export async function runCacheCommand(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const opts: Record<string, string> = {}
  if (argv[0] !== 'flush') {
    err.write(`backplane: cache takes the subcommand flush\n\n${CACHE_USAGE}`)
    return 2
  }
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!
    const v = argv[i + 1]
    if (!['--config', '-c', '--api', '--stage', '--admin'].includes(a) || v === undefined) {
      err.write(`backplane: ${v === undefined && a.startsWith('-') ? `${a} needs a value` : `unknown argument ${a}`}\n\n${CACHE_USAGE}`)
      return 2
    }
    opts[a === '-c' ? '--config' : a] = v
    i++
  }
  const config = opts['--config']
  const apiId = opts['--api']
  const stageName = opts['--stage']
  if (config === undefined || apiId === undefined || stageName === undefined) {
    err.write(`backplane: cache flush needs --config, --api and --stage\n\n${CACHE_USAGE}`)
    return 2
  }
  const loaded = loadGateway({ apiFiles: [], configFile: config })
  const gw = loaded.gateway
  const api = gw.apis.find((a) => a.id === apiId)
  const stage = api?.stages.find((s) => s.name === stageName)
  if (api === undefined || stage === undefined) {
    err.write(`backplane: ${config} has no ${api === undefined ? `API ${apiId}` : `stage ${stageName} in API ${apiId}`}\n`)
    return 1
  }
  if (!stageSettingsOf(stage).cache.enabled) {
    err.write(`backplane: stage ${stageName} of API ${apiId} has no cache (cacheClusterEnabled is not true)\n`)
    return 1
  }
  if (gw.state.redis !== null) {
    const client = new RedisCacheClient(gw.state.redis)
    try {
      const n = await client.deletePrefix(redisStagePrefix(apiId, stageName), FLUSH_TIMEOUT_MS)
      out.write(`flushed the cache of stage ${stageName} of API ${apiId} in Redis (${n} entries)\n`)
      return 0
    } catch (e) {
      err.write(`backplane: cache flush: Redis did not answer: ${(e as Error).message}\n`)
      return 1
    } finally {
      client.close()
    }
  }
  const admin = opts['--admin'] ?? (gw.admin === null ? null : `http://${gw.admin.host.includes(':') ? `[${gw.admin.host}]` : gw.admin.host}:${gw.admin.port}`)
  if (admin === null) {
    err.write('backplane: cache flush: the cache lives in the gateway process; give its admin listener (admin: { host, port } in the config, or --admin URL)\n')
    return 1
  }
  try {
    const res = await request(`${admin}/cache/flush?api=${encodeURIComponent(apiId)}&stage=${encodeURIComponent(stageName)}`, { method: 'POST', headersTimeout: FLUSH_TIMEOUT_MS, bodyTimeout: FLUSH_TIMEOUT_MS })
    const text = await res.body.text()
    if (res.statusCode === 202) {
      out.write(`flushed the cache of stage ${stageName} of API ${apiId}\n`)
      return 0
    }
    err.write(`backplane: cache flush: the gateway answered ${res.statusCode}: ${text.trim()}\n`)
    return 1
  } catch (e) {
    err.write(`backplane: cache flush: no gateway answered at ${admin}: ${(e as Error).message}\n`)
    return 1
  }
}
