import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { makePki } from '../fixtures/pki.js'
import { startRedis, type RedisServer } from '../fixtures/redis.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import {
  assertNoStack,
  bin,
  cliEnv,
  run,
  runTracingModules,
  tempDir,
  withoutCaFile,
} from './harness.js'

const graph = 'https://graph.microsoft.com/.default'
const userRead = 'https://graph.microsoft.com/User.Read'

describe('the token cache shared through Redis (--cache-url)', () => {
  let sts: Sts
  let redis: RedisServer
  let db = 0

  before(async () => {
    sts = await startSts()
    redis = await startRedis()
  })
  after(async () => {
    await redis.close()
    await sts.close()
  })

  /** Each test gets its own Redis database, so keys never leak between tests. */
  const freshDb = () => ++db
  const appArgs = (dir: string, url: string) => [
    'client-token',
    ...sts.cliArgs(sts.defaults.confidentialClientId),
    '--cache-dir',
    dir,
    '--cache-url',
    url,
    '--scope',
    graph,
  ]
  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })
  const appKey = () =>
    `msal-ts:${sts.defaults.confidentialClientId.toLowerCase()}:app:${sts.tenantId.toLowerCase()}`

  test('two processes with separate cache dirs share one token through Redis; the key expires with it', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    sts.clearLog()
    const first = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    assert.equal(first.stderr, '')
    const second = await run(home, appArgs(join(home, 'b'), url), { env: secretEnv() })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout, 'the second machine got the first one’s token')
    assert.equal(sts.tokenRequests().length, 1, 'one token request between them')
    const discovery = sts.log.filter((entry) => entry.method === 'GET')
    assert.equal(discovery.length, 1, 'the second machine read discovery from Redis')
    const httpCache = JSON.parse((await redis.client(db).get('msal-ts:http-cache')) ?? '{}') as {
      entries?: Record<string, unknown>
    }
    assert.ok(
      Object.keys(httpCache.entries ?? {}).some((key) => key.endsWith('openid-configuration')),
      JSON.stringify(httpCache),
    )

    const client = redis.client(db)
    const stored = JSON.parse((await client.get(appKey())) ?? '{}') as {
      AccessToken: Record<string, Record<string, string>>
    }
    const [entry] = Object.values(stored.AccessToken)
    assert.equal(entry?.credential_type, 'AccessToken')
    assert.equal(entry?.secret, first.stdout.trim())
    assert.equal(entry?.client_id, sts.defaults.confidentialClientId)
    const ttl = await client.pttl(appKey())
    const expiry = Math.max(Number(entry?.expires_on), Number(entry?.extended_expires_on ?? 0))
    const left = expiry * 1000 - Date.now()
    assert.ok(ttl > 0 && ttl <= left + 2000 && ttl >= left - 60_000, `ttl ${ttl} vs ${left}`)
    assert.equal(await client.exists(`mutex:msal-ts:${sts.defaults.confidentialClientId}:lock`), 0)

    // The first machine's cache file holds a local copy, used should Redis go away.
    const files = await readdir(join(home, 'a'))
    const tokenFile = files.find((name) => name.startsWith('token-cache.'))
    assert.ok(tokenFile, files.join(' '))
    const local = await readFile(join(home, 'a', tokenFile), 'utf8')
    assert.ok(local.includes(first.stdout.trim()))
  })

  test('a cache hit only reads Redis: no lock taken or loaded, nothing written', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const warm = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
    assert.equal(warm.exitCode, 0, warm.stderr)
    const client = redis.client(db)
    await client.config('RESETSTAT')
    const hit = await runTracingModules(home, appArgs(join(home, 'b'), url), { env: secretEnv() })
    assert.equal(hit.exitCode, 0, hit.stderr)
    assert.equal(hit.stdout, warm.stdout)
    assert.ok(hit.modules.includes('ioredis'), hit.modules.join(' '))
    assert.ok(!hit.modules.includes('redis-semaphore'), 'the lock library is for writes only')
    // ioredis's debug logging (node:tty, node:os) and its checks' node:assert load only when used.
    for (const name of ['tty', 'os', 'node:assert']) {
      assert.ok(!hit.modules.includes(name), `${name} was loaded: ${hit.modules.join(' ')}`)
    }
    const calls = Object.fromEntries(
      [...(await client.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
        .filter(([, command]) => command !== 'config' && command !== 'info')
        .map(([, command = '', count]): [string, number] => [command, Number(count)]),
    )
    // The database, the account index with the app partition, then the shared HTTP cache.
    assert.deepEqual(calls, { getrange: 2, select: 1, smembers: 1 })
  })

  test("a run's connections end with it: a miss that writes, then a hit, leave none open", async () => {
    const home = await tempDir()
    const runDb = freshDb()
    const url = redis.url(runDb)
    for (const dir of ['a', 'b']) {
      const result = await run(home, appArgs(join(home, dir), url), { env: secretEnv() })
      assert.equal(result.exitCode, 0, result.stderr)
    }
    const client = redis.client(0)
    const ofTheRuns = new RegExp(`\\bdb=${runDb}\\b`)
    // The server learns of a connection closed by the process's exit as its next event.
    for (let attempt = 0; ofTheRuns.test(String(await client.client('LIST'))); attempt++) {
      assert.ok(attempt < 50, String(await client.client('LIST')))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

  test("DEBUG still turns ioredis's own logging on", async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const result = await run(home, appArgs(join(home, 'a'), url), {
      env: { ...secretEnv(), DEBUG: 'ioredis:redis' },
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stderr, /ioredis:redis write command\[[^\]]+\]: \d+ -> select/)
  })

  test("a profile's cache-url applies with no option; a password in it is refused and not echoed", async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const set = await run(home, ['config', 'set', 'cache-url', url])
    assert.equal(set.exitCode, 0, set.stderr)
    const args = appArgs(join(home, 'a'), url)
    args.splice(args.indexOf('--cache-url'), 2)
    const got = await run(home, args, { env: secretEnv() })
    assert.equal(got.exitCode, 0, got.stderr)
    const stored = await redis.client(db).get(appKey())
    assert.ok(stored?.includes(got.stdout.trim()), 'the token went to Redis')

    const refused = await run(home, [
      'config',
      'set',
      'cache-url',
      'redis://:hunter2@127.0.0.1:1/0',
    ])
    assert.equal(refused.exitCode, 2)
    assert.match(refused.stderr, /^msal-ts: secret_not_allowed: .*MSAL_TS_REDIS_PASSWORD/)
    assert.ok(!refused.stderr.includes('hunter2'))
  })

  test('50 processes on one Redis, each with its own cache dir, make one token request in total', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    sts.clearLog()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        run(home, appArgs(join(home, `runner-${i}`), url), { env: secretEnv() }),
      ),
    )
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr)
    }
    assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'everyone got the same token')
    assert.equal(sts.tokenRequests().length, 1, 'single flight across all fifty')
    const discovery = sts.log.filter((entry) => entry.method === 'GET')
    assert.equal(discovery.length, 1, 'one discovery request across all fifty')
  })

  test('a lock left by a holder that was killed expires, and the next process gets the token', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const client = redis.client(db)
    const lockKey = `mutex:msal-ts:${sts.defaults.confidentialClientId}:lock`
    sts.clearLog()
    // The holder's request hangs; --timeout 2 makes its lock expire 2 s after it stops renewing it.
    sts.inject({ match: { path: '/token' }, delayMs: 20_000 })
    const holder = execa(bin, [...appArgs(join(home, 'holder'), url), '--timeout', '2'], {
      env: cliEnv(home, secretEnv()),
      extendEnv: false,
      reject: false,
      stripFinalNewline: false,
      stdin: 'ignore',
    })
    while ((await client.exists(lockKey)) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    holder.kill('SIGKILL')
    await holder
    assert.equal(await client.exists(lockKey), 1, 'the dead holder’s lock is still there')
    sts.clearFaults()

    const next = await run(home, appArgs(join(home, 'next'), url), { env: secretEnv() })
    assert.equal(next.exitCode, 0, next.stderr)
    assert.match(next.stdout, /^eyJ/)
    assert.equal(await client.exists(lockKey), 0)
  })

  test('a lock key set with a short expiry (a holder that died) only delays the next process', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const client = redis.client(db)
    const lockKey = `mutex:msal-ts:${sts.defaults.confidentialClientId}:lock`
    await client.set(lockKey, 'a process that died', 'PX', 1500)
    sts.clearLog()
    const result = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(sts.tokenRequests().length, 1)
  })

  test('Redis stopped mid-run: a warning, the token from the network saved to the file, then served from it', async () => {
    const home = await tempDir()
    const own = await startRedis()
    try {
      const client = own.client()
      const dir = join(home, 'a')
      sts.clearLog()
      sts.inject({ match: { path: '/token' }, delayMs: 1500 })
      const running = execa(bin, appArgs(dir, own.url()), {
        env: cliEnv(home, secretEnv()),
        extendEnv: false,
        reject: false,
        stripFinalNewline: false,
        stdin: 'ignore',
      })
      // The process holds the lock and waits for the token: now Redis goes away.
      while (
        (await client.exists(`mutex:msal-ts:${sts.defaults.confidentialClientId}:lock`)) === 0
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await own.stop()
      const result = await running
      assert.equal(result.exitCode, 0, String(result.stderr))
      assert.match(String(result.stdout), /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
      assert.match(
        String(result.stderr),
        new RegExp(
          `^msal-ts: warning: the Redis cache at redis://127\\.0\\.0\\.1:${own.port}/0 is not usable \\(.+\\); using the local cache file instead\\n$`,
        ),
      )

      sts.clearLog()
      const again = await run(home, appArgs(dir, own.url()), { env: secretEnv() })
      assert.equal(again.exitCode, 0, again.stderr)
      assert.equal(again.stdout, String(result.stdout), 'served from the local file')
      assert.equal(again.stderr.match(/warning/g)?.length, 1, again.stderr)
      assert.deepEqual(sts.tokenRequests(), [])
    } finally {
      await own.close()
    }
  })

  test('Redis gone while the lock is being renewed: the token still printed, one warning, no stack trace', async () => {
    const home = await tempDir()
    const own = await startRedis()
    try {
      const dir = join(home, 'a')
      sts.clearLog()
      // --timeout 6 renews the lock every 2 s; the answer comes 4.5 s after the request, so the
      // renewals in between meet a Redis that is gone.
      sts.inject({ match: { path: '/token' }, delayMs: 4500 })
      const running = execa(bin, [...appArgs(dir, own.url()), '--timeout', '6'], {
        env: cliEnv(home, secretEnv()),
        extendEnv: false,
        reject: false,
        stripFinalNewline: false,
        stdin: 'ignore',
      })
      while (sts.tokenRequests().length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await own.stop()
      const result = await running
      const stderr = String(result.stderr)
      assertNoStack(stderr)
      assert.equal(result.exitCode, 0, stderr)
      assert.match(String(result.stdout), /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
      assert.match(
        stderr,
        new RegExp(
          `^msal-ts: warning: the Redis cache at redis://127\\.0\\.0\\.1:${own.port}/0 is not usable \\(.+\\); using the local cache file instead\\n$`,
        ),
      )
      assert.deepEqual(
        sts.tokenRequests().map((entry) => entry.status),
        [200],
      )

      sts.clearLog()
      const again = await run(home, appArgs(dir, own.url()), { env: secretEnv() })
      assert.equal(again.stdout, String(result.stdout), 'the token was kept in the local file')
      assert.deepEqual(sts.tokenRequests(), [])
    } finally {
      await own.close()
    }
  })

  test('a 20 MB value at the token key: one warning, a token from the network, the local file not given the value', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const client = redis.client(db)
    const dir = join(home, 'a')
    const first = await run(home, appArgs(dir, url), { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    const tokenFile = (await readdir(dir)).find((name) => name.startsWith('token-cache.')) ?? ''
    const before = await readFile(join(dir, tokenFile), 'utf8')
    await client.set(
      appKey(),
      JSON.stringify({ AccessToken: {}, pad: 'x'.repeat(20 * 1024 * 1024) }),
    )

    const result = await run(home, [...appArgs(dir, url), '--force-refresh'], { env: secretEnv() })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^eyJ/)
    assert.match(
      result.stderr,
      /^msal-ts: warning: the Redis cache at .* is not usable \(the Redis key .* is larger than 16 MiB\); using the local cache file instead\n$/,
    )
    const after = await readFile(join(dir, tokenFile), 'utf8')
    assert.ok(after.length < 1024 * 1024 && !after.includes('xxxx'), 'the local copy stays small')
    assert.ok(after.includes(result.stdout.trim()) && after !== before)
    const again = await run(home, appArgs(dir, url), { env: secretEnv() })
    assert.equal(again.stdout, result.stdout, 'the next run is served from the local file')
  })

  test('an HTTP-cache key of another type only keeps discovery local; the tokens are still shared', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const client = redis.client(db)
    await client.rpush('msal-ts:http-cache', 'a')
    sts.clearLog()
    const first = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(
      first.stderr,
      /^msal-ts: warning: the Redis key msal-ts:http-cache is not usable \(WRONGTYPE.*\); using the local copy instead\n$/,
    )
    assert.ok(await client.get(appKey()), 'the token went to Redis')
    const second = await run(home, appArgs(join(home, 'b'), url), { env: secretEnv() })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout, 'the token came from Redis')
    assert.equal(sts.tokenRequests().length, 1)
    assert.equal(await client.type('msal-ts:http-cache'), 'list', 'not overwritten')
  })

  test('a discovery document in Redis naming another origin or failing validation is fetched afresh, never used', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const client = redis.client(db)
    const stolen: string[] = []
    const thief = createServer((req, res) => {
      req.on('data', (chunk: Buffer) => stolen.push(chunk.toString()))
      req.on('end', () => res.writeHead(400).end('{}'))
    })
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', resolve))
    const thiefUrl = `http://127.0.0.1:${(thief.address() as AddressInfo).port}/token`
    try {
      const first = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
      assert.equal(first.exitCode, 0, first.stderr)
      const spoil = async (change: (doc: Record<string, unknown>) => void) => {
        const shared = JSON.parse((await client.get('msal-ts:http-cache')) ?? '{}') as {
          entries: Record<string, { expires: number; response: { body: string } }>
        }
        const key = Object.keys(shared.entries).find((k) => k.endsWith('openid-configuration'))
        const entry = shared.entries[key ?? '']
        assert.ok(entry, JSON.stringify(shared))
        const doc = JSON.parse(entry.response.body) as Record<string, unknown>
        change(doc)
        entry.response.body = JSON.stringify(doc)
        entry.expires = 4_000_000_000
        await client.set('msal-ts:http-cache', JSON.stringify(shared))
      }
      for (const [name, change] of [
        [
          'token_endpoint on another port',
          (doc: Record<string, unknown>) => (doc['token_endpoint'] = thiefUrl),
        ],
        [
          'token_endpoint not a string',
          (doc: Record<string, unknown>) => (doc['token_endpoint'] = 42),
        ],
      ] as const) {
        await spoil(change)
        sts.clearLog()
        const dir = join(home, name.replace(/\W/g, '-'))
        const result = await run(home, [...appArgs(dir, url), '--force-refresh'], {
          env: secretEnv(),
        })
        assert.equal(result.exitCode, 0, `${name}: ${result.stderr}`)
        assert.match(result.stdout, /^eyJ/)
        assert.equal(sts.log.filter((e) => e.method === 'GET').length, 1, `${name}: fetched afresh`)
        assert.equal(sts.tokenRequests().length, 1, name)
        const shared = (await client.get('msal-ts:http-cache')) ?? ''
        assert.ok(!shared.includes(thiefUrl) && !shared.includes('"token_endpoint\\":42'), name)
      }
      assert.deepEqual(stolen, [], 'nothing was sent to the other origin')
    } finally {
      thief.close()
    }
  })

  test('Redis refusing connections: a warning, and the token all the same', async () => {
    const home = await tempDir()
    const down = await startRedis()
    await down.close()
    const result = await run(home, [...appArgs(join(home, 'a'), down.url()), '--timeout', '5'], {
      env: secretEnv(),
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^eyJ/)
    assert.match(
      result.stderr,
      /^msal-ts: warning: the Redis cache at .* is not usable \(.*ECONNREFUSED.*\); using the local cache file instead\n$/,
    )
  })

  test('a Redis that accepts connections but never answers costs at most --timeout, then the file', async () => {
    const home = await tempDir()
    const frozen = await startRedis()
    try {
      frozen.freeze()
      const result = await run(
        home,
        [...appArgs(join(home, 'a'), frozen.url()), '--timeout', '1'],
        {
          env: secretEnv(),
        },
      )
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^eyJ/)
      assert.match(
        result.stderr,
        /^msal-ts: warning: the Redis cache at .* is not usable \(.*(timed out|no answer).*\); using the local cache file instead\n$/,
      )
    } finally {
      await frozen.close()
    }
  })

  test('a malformed --cache-url or a wrong scheme is a usage error (exit 2) naming --cache-url', async () => {
    const home = await tempDir()
    for (const url of [
      'http://127.0.0.1:6379',
      'redis://127.0.0.1:6379/zero',
      'not a url',
      'redis://',
      'redis://127.0.0.1:99999',
    ]) {
      const result = await run(home, appArgs(join(home, 'a'), url), { env: secretEnv() })
      assert.equal(result.exitCode, 2, `${url}: ${result.stderr}`)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: invalid_cache_url: --cache-url must be .+\n$/, url)
      assertNoStack(result.stderr)
    }
    const fromEnv = await run(
      home,
      ['token', '-c', sts.defaults.publicClientId, '-a', sts.authority(), '--scope', userRead],
      { env: { MSAL_TS_CACHE_URL: 'memcached://127.0.0.1' } },
    )
    assert.equal(fromEnv.exitCode, 2, fromEnv.stderr)
    assert.match(
      fromEnv.stderr,
      /^msal-ts: invalid_cache_url: MSAL_TS_CACHE_URL must be .*memcached/,
    )
  })

  test('user tokens: a login on one machine answers `token` on another, in a per-account partition', async () => {
    const home = await tempDir()
    const url = redis.url(freshDb())
    const base = sts.cliArgs(sts.defaults.publicClientId)
    const login = await run(
      home,
      [
        'login',
        ...base,
        '--cache-dir',
        join(home, 'a'),
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        userRead,
      ],
      { input: sts.defaults.password, env: { MSAL_TS_CACHE_URL: url } },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    sts.clearLog()
    const token = await run(
      home,
      ['token', ...base, '--cache-dir', join(home, 'b'), '--scope', userRead, '-o', 'json'],
      { env: { MSAL_TS_CACHE_URL: url } },
    )
    assert.equal(token.exitCode, 0, token.stderr)
    const result = JSON.parse(token.stdout) as {
      token_source: string
      account: { home_account_id: string }
    }
    assert.equal(result.token_source, 'cache')
    assert.deepEqual(sts.tokenRequests(), [])

    const client = redis.client(db)
    const prefix = `msal-ts:${sts.defaults.publicClientId.toLowerCase()}`
    const home_account_id = result.account.home_account_id.toLowerCase()
    assert.deepEqual(await client.smembers(`${prefix}:users`), [home_account_id])
    const partition = JSON.parse(
      (await client.get(`${prefix}:user:${home_account_id}`)) ?? '{}',
    ) as Record<string, Record<string, unknown>>
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata']) {
      assert.equal(Object.keys(partition[section] ?? {}).length, 1, section)
    }
    const ninetyDays = 90 * 24 * 3600 * 1000
    const ttl = await client.pttl(`${prefix}:user:${home_account_id}`)
    assert.ok(ttl > ninetyDays - 60_000 && ttl <= ninetyDays, `ttl ${ttl}`)

    const logout = await run(
      home,
      ['logout', ...base, '--cache-dir', join(home, 'b'), '--all', '--yes'],
      { env: { MSAL_TS_CACHE_URL: url } },
    )
    assert.equal(logout.exitCode, 0, logout.stderr)
    assert.equal(await client.exists(`${prefix}:user:${home_account_id}`), 0)
    assert.equal(await client.exists(`${prefix}:users`), 0)
  })

  test('a password protected Redis: the password from the environment, never the command line', async () => {
    const home = await tempDir()
    const locked = await startRedis({ password: 's3cret pass' })
    try {
      sts.clearLog()
      for (const [dir, env] of [
        ['a', { MSAL_TS_REDIS_PASSWORD: 's3cret pass' }],
        ['b', { REDISCLI_AUTH: 's3cret pass' }],
      ] as const) {
        const result = await run(home, appArgs(join(home, dir), locked.url()), {
          env: { ...secretEnv(), ...env },
        })
        assert.equal(result.exitCode, 0, result.stderr)
        assert.equal(result.stderr, '')
      }
      assert.equal(sts.tokenRequests().length, 1, 'the second run found the token in Redis')
      assert.ok(await locked.client().exists(appKey()))

      const wrong = await run(home, appArgs(join(home, 'c'), locked.url()), {
        env: { ...secretEnv(), MSAL_TS_REDIS_PASSWORD: 'wrong' },
      })
      assert.equal(wrong.exitCode, 0, wrong.stderr)
      assert.match(
        wrong.stderr,
        /^msal-ts: warning: the Redis cache .* is not usable \(.*WRONGPASS.*\)/,
      )
      assert.ok(!wrong.stderr.includes('wrong'.padStart(6, ' ')))

      const inArgv = await run(
        home,
        appArgs(join(home, 'd'), `redis://:s3cret%20pass@127.0.0.1:${locked.port}/0`),
        { env: secretEnv() },
      )
      assert.equal(inArgv.exitCode, 0, inArgv.stderr)
      assert.match(
        inArgv.stderr,
        /^msal-ts: warning: --cache-url carries a password visible to other users of this machine; put it in MSAL_TS_REDIS_PASSWORD or REDISCLI_AUTH\n$/,
      )
    } finally {
      await locked.close()
    }
  })

  test('rediss:// verifies the server with --ca-file as HTTPS does, or not at all with --insecure', async () => {
    const home = await tempDir()
    const tlsOf = (dir: string) => ({
      certFile: join(dir, 'server.pem'),
      keyFile: join(dir, 'server.key'),
      caFile: join(dir, 'ca.pem'),
    })
    // One server has a certificate from the STS's CA, the other from a CA nobody was told about.
    const trusted = await startRedis({ tls: tlsOf(dirname(sts.caFile)) })
    makePki(join(home, 'other-ca'))
    const stranger = await startRedis({ tls: tlsOf(join(home, 'other-ca')) })
    try {
      const first = await run(home, appArgs(join(home, 'a'), trusted.url()), { env: secretEnv() })
      assert.equal(first.exitCode, 0, first.stderr)
      assert.equal(first.stderr, '')
      sts.clearLog()
      const second = await run(home, appArgs(join(home, 'b'), trusted.url()), { env: secretEnv() })
      assert.equal(second.stdout, first.stdout)
      assert.deepEqual(sts.tokenRequests(), [], 'served from Redis over TLS')

      const refused = await run(home, appArgs(join(home, 'c'), stranger.url()), {
        env: secretEnv(),
      })
      assert.equal(refused.exitCode, 0, refused.stderr)
      assert.match(refused.stderr, /^msal-ts: warning: the Redis cache at rediss:.* is not usable/)

      const insecure = await run(
        home,
        [...withoutCaFile(appArgs(join(home, 'd'), stranger.url())), '--insecure'],
        { env: secretEnv() },
      )
      assert.equal(insecure.exitCode, 0, insecure.stderr)
      assert.doesNotMatch(insecure.stderr, /Redis/)
    } finally {
      await trusted.close()
      await stranger.close()
    }
  })
})
