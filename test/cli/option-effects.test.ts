import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startManagedIdentityEndpoints, type MiEndpoints } from '../fixtures/managed-identity.js'
import { startRedis, type RedisServer } from '../fixtures/redis.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

const graphRead = 'https://graph.microsoft.com/User.Read'
const graphApp = 'https://graph.microsoft.com/.default'
const cp1 = '{"access_token":{"xms_cc":{"values":["CP1"]}}}'

/** One refusal: the command line, and what stderr must name. */
interface Refusal {
  args: string[]
  stderr: RegExp
  env?: Record<string, string>
}

/** The request options a command cannot act on are not its options at all (cli.md). */
const unknownOptions: Refusal[] = [
  ...['accounts', 'logout'].flatMap((command) =>
    [
      ['--region', 'westus'],
      ['--capability', 'CP1'],
      ['--exclude-scope', 'offline_access'],
    ].map(([option, value]) => ({
      args: [command, '-c', 'x', option ?? '', value ?? ''],
      stderr: new RegExp(`^msal-ts: usage: unknown option '${option}'`),
    })),
  ),
  ...['login', 'token', 'auth-url', 'redeem', 'migrate-rt'].map((command) => ({
    args: [command, '-c', 'x', '--region', 'westus'],
    stderr: /^msal-ts: usage: unknown option '--region'/,
  })),
]

/** Options that cannot act with the rest of the command line: exit 2 naming the conflict. */
const conflicts: Refusal[] = [
  ...['--client-assertion', '--client-assertion-file'].map((option) => ({
    args: ['client-token', '-c', 'x', '-s', graphApp, '--client-claims', '{}', option, 'a.jwt'],
    stderr: new RegExp(`^msal-ts: conflicting_options: --client-claims .*not with ${option}\\n$`),
  })),
  {
    args: ['client-token', '-c', 'x', '-s', graphApp, '--client-claims', '{}'],
    env: { AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/token' },
    stderr: /^msal-ts: conflicting_options: --client-claims .*AZURE_FEDERATED_TOKEN_FILE\n$/,
  },
  ...['--redirect-uri', '--nonce', '--claims-challenge'].map((option) => ({
    args: [
      'redeem',
      '-c',
      'x',
      '--flow-file',
      'flow.json',
      '--response',
      'code=c',
      option,
      option === '--claims-challenge' ? '{}' : 'v',
    ],
    stderr: new RegExp(`^msal-ts: conflicting_options: --flow-file fixes .*drop ${option}`),
  })),
  {
    args: ['redeem', '-c', 'x', '--code', 'c', '-s', 'User.Read', '--response', 'code=c'],
    stderr: /^msal-ts: conflicting_options: --response goes with --flow-file/,
  },
  ...['--username', '--device-code'].flatMap((path) =>
    [
      ['--no-browser'],
      ['--redirect-port', '8400'],
      ['--prompt', 'login'],
      ['--login-hint', 'bob@contoso.com'],
      ['--domain-hint', 'contoso.com'],
      ['--response-mode', 'form_post'],
    ].map((option) => ({
      args: ['login', '-c', 'x', ...(path === '--username' ? [path, 'bob'] : [path]), ...option],
      stderr: new RegExp(`^msal-ts: conflicting_options: ${option[0]} cannot act with ${path}`),
    })),
  ),
  {
    args: ['login', '-c', 'x', '--username', 'bob', '--wait', '60'],
    stderr: /^msal-ts: conflicting_options: --wait cannot act with --username/,
  },
  {
    args: ['login', '-c', 'x', '--device-code', '--password-stdin'],
    stderr: /^msal-ts: conflicting_options: --password-stdin cannot act with --device-code/,
  },
  {
    args: ['login', '-c', 'x', '--password-stdin'],
    stderr: /^msal-ts: conflicting_options: --password-stdin goes with --username/,
  },
  ...[
    ['--capability', 'CP1'],
    ['--exclude-scope', 'offline_access'],
    ['--region', 'westus'],
    ['--app-name', 'n'],
    ['--app-version', '1'],
  ].map((option) => ({
    args: [
      'client-token',
      '--managed-identity',
      '--resource',
      'https://vault.azure.net',
      ...option,
    ],
    stderr: new RegExp(
      `^msal-ts: conflicting_options: --managed-identity cannot act on ${option[0]}\\n$`,
    ),
  })),
]

describe('every option acts or is refused', () => {
  test('request options a command cannot act on are unknown options there (exit 2)', async () => {
    const home = await tempDir()
    for (const { args, stderr } of unknownOptions) {
      const result = await run(home, args)
      assert.equal(result.exitCode, 2, args.join(' '))
      assert.match(result.stderr, stderr, args.join(' '))
      assert.equal(result.stdout, '')
    }
  })

  test('options that cannot act with the rest of the command line are refused (exit 2)', async () => {
    const home = await tempDir()
    for (const { args, stderr, env } of conflicts) {
      const result = await run(home, args, env ? { env } : {})
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, stderr, args.join(' '))
      assertNoStack(result.stderr)
      assert.equal(result.stdout, '')
    }
  })

  test("a profile's region does not apply to commands without --region", async () => {
    const home = await tempDir()
    assert.equal((await run(home, ['config', 'set', 'region', 'westus'])).exitCode, 0)
    const accounts = await run(home, ['accounts', '-c', 'x', '-o', 'json'])
    assert.equal(accounts.exitCode, 0, accounts.stderr)
    assert.equal(accounts.stdout, '[]\n')
  })
})

describe('options that act on the wire and in the cache', () => {
  let sts: Sts
  let pub: string[]
  let conf: string[]

  before(async () => {
    sts = await startSts()
    pub = sts.cliArgs(sts.defaults.publicClientId)
    conf = sts.cliArgs(sts.defaults.confidentialClientId)
  })
  after(async () => {
    sts.settings.idTokenClaims = {}
    await sts.close()
  })

  const passwordLogin = (home: string, ...extra: string[]) =>
    run(
      home,
      ['login', ...pub, '--username', sts.defaults.username, '--password-stdin', ...extra],
      { input: sts.defaults.password },
    )

  const cacheText = async (home: string) => {
    const dir = join(home, 'cache')
    const name = (await readdir(dir).catch(() => [])).find((n) => n.startsWith('token-cache.'))
    return name ? readFile(join(dir, name), 'utf8') : ''
  }

  test('migrate-rt --capability CP1 sends the capability as claims on the refresh_token grant', async () => {
    const source = await tempDir()
    const login = await passwordLogin(source, '--scope', graphRead)
    assert.equal(login.exitCode, 0, login.stderr)
    const cache = JSON.parse(await cacheText(source)) as {
      RefreshToken: Record<string, { secret: string }>
    }
    const rt = Object.values(cache.RefreshToken)[0]?.secret ?? ''
    sts.clearLog()
    const home = await tempDir()
    const migrated = await run(
      home,
      ['migrate-rt', ...pub, '--scope', graphRead, '--capability', 'CP1', '--refresh-token-stdin'],
      { input: rt },
    )
    assert.equal(migrated.exitCode, 0, migrated.stderr)
    const [request] = sts.tokenRequests()
    assert.equal(request?.form?.['grant_type'], 'refresh_token')
    assert.equal(request?.form?.['claims'], cp1)
  })

  test('client-token --on-behalf-of --force-refresh asks again instead of using the cached token', async () => {
    const home = await tempDir()
    const middleTier = sts.defaults.confidentialClientId
    const user = await passwordLogin(
      home,
      '--scope',
      `api://${middleTier}/access_as_user`,
      '-o',
      'raw',
    )
    assert.equal(user.exitCode, 0, user.stderr)
    const incoming = join(home, 'incoming.jwt')
    await writeFile(incoming, user.stdout)
    const args = ['client-token', ...conf, '--on-behalf-of', incoming, '--scope', graphRead]
    const env = { AZURE_CLIENT_SECRET: sts.defaults.clientSecret }
    sts.clearLog()
    const first = await run(home, args, { env })
    assert.equal(first.exitCode, 0, first.stderr)
    const forced = await run(home, [...args, '--force-refresh', '-o', 'json'], { env })
    assert.equal(forced.exitCode, 0, forced.stderr)
    assert.equal(
      (JSON.parse(forced.stdout) as Record<string, unknown>)['token_source'],
      'identity_provider',
    )
    const obo = sts.tokenRequests()
    assert.equal(obo.length, 2, 'the forced run made its own request')
    assert.equal(obo[1]?.form?.['requested_token_use'], 'on_behalf_of')
  })

  test('login --username --max-age refuses an old sign-in and caches nothing', async () => {
    const home = await tempDir()
    sts.settings.idTokenClaims = { auth_time: Math.floor(Date.now() / 1000) - 3600 }
    const stale = await passwordLogin(home, '--max-age', '60')
    sts.settings.idTokenClaims = {}
    assert.equal(stale.exitCode, 1)
    assert.match(stale.stderr, /^msal-ts: invalid_id_token: .*older than max_age \(60 s\)$/m)
    assert.equal(await cacheText(home), '')
    const fresh = await passwordLogin(home, '--max-age', '60')
    assert.equal(fresh.exitCode, 0, fresh.stderr)
  })

  test('login --device-code --max-age refuses an old sign-in and caches nothing', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['success']
    sts.settings.idTokenClaims = { auth_time: Math.floor(Date.now() / 1000) - 3600 }
    const stale = await run(home, ['login', ...pub, '--device-code', '--max-age', '60'])
    sts.settings.idTokenClaims = {}
    assert.equal(stale.exitCode, 1)
    assert.match(stale.stderr, /^msal-ts: invalid_id_token: .*older than max_age \(60 s\)$/m)
    assert.equal(await cacheText(home), '')
  })
})

describe('client-token --managed-identity --cache-url', () => {
  let mi: MiEndpoints
  let redis: RedisServer

  before(async () => {
    mi = await startManagedIdentityEndpoints()
    redis = await startRedis()
  })
  after(async () => {
    await redis.close()
    await mi.close()
  })

  test('--cache-url keeps the managed identity token in Redis, shared by two machines', async () => {
    const home = await tempDir()
    mi.clear()
    const args = (dir: string) => [
      'client-token',
      '--managed-identity',
      '--resource',
      'https://vault.azure.net',
      '--cache-dir',
      join(home, dir),
      '--cache-url',
      redis.url(1),
    ]
    const first = await run(home, args('a'), { env: mi.imdsEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    const second = await run(home, args('b'), { env: mi.imdsEnv() })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout, 'the second machine got the token from Redis')
    const client = redis.client(1)
    const keys = await client.keys('msal-ts:*')
    const values = await Promise.all(keys.map((key) => client.get(key)))
    assert.ok(
      values.some((value) => value?.includes(first.stdout.trim())),
      `the token is in Redis (${keys.join(' ')})`,
    )
  })
})
