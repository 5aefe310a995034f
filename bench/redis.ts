import { join } from 'node:path'
import { hasRedisServer, startRedis } from '../test/fixtures/redis.js'
import { all, type Burst, clientTokenArgs, summarize } from './requests.js'
import { timeCommands, type Timings } from './timing.js'
import { bin, type Workspace } from './workspace.js'

export type RedisResults =
  | { skipped: string }
  | {
      /** 20 processes, each with its own cache dir (one per machine), sharing one Redis. */
      burst: Burst
      /** A warm `client-token`: from the file cache, then from Redis. */
      cacheHit: Timings
    }

/** The shared Redis cache (--cache-url), when Debian's redis-server is on this machine. */
export async function redisResults(ws: Workspace): Promise<RedisResults> {
  if (!(await hasRedisServer())) {
    return { skipped: 'redis-server is not installed (apt-get install redis-server)' }
  }
  const redis = await startRedis()
  try {
    const env = { AZURE_CLIENT_SECRET: ws.sts.defaults.clientSecret }
    const args = (dir: string) => [
      ...clientTokenArgs(ws, join(ws.dir, dir, 'token-cache.json')),
      '--cache-url',
      redis.url(1),
    ]
    ws.sts.clearLog()
    let runner = 0
    const { results, wallMs } = await all(() =>
      ws.msalTs(args(`redis-runner-${runner++}`), { env }),
    )
    const burst = summarize(results, wallMs, ws.sts.tokenRequests().length, ws.sts.log)

    const fileOnly = clientTokenArgs(ws, join(ws.dir, 'redis-runner-0', 'token-cache.json'))
    const cacheHit = await timeCommands(
      [
        { label: 'file cache', runtime: 'node', file: bin, args: fileOnly },
        { label: 'Redis', runtime: 'node', file: bin, args: args('redis-timing') },
      ],
      { ...ws.env, ...env },
      ws.dir,
    )
    return { burst, cacheHit }
  } finally {
    await redis.close()
  }
}
