import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SignJWT, importPKCS8 } from 'jose'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startManagedIdentityEndpoints, type MiEndpoints } from '../fixtures/managed-identity.js'
import { startRedis, type RedisServer } from '../fixtures/redis.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'
import { afterAdvice, browserlessClient, startLogin } from './login-process.js'

const graphRead = 'https://graph.microsoft.com/User.Read'
const graphApp = 'https://graph.microsoft.com/.default'
const cp1 = '{"access_token":{"xms_cc":{"values":["CP1"]}}}'

/** One refusal: the command line, and what stderr must name. */
interface Refusal {
  args: string[]
  stderr: RegExp
  env?: Record<string, string>
  input?: string
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
  // accounts and logout only read and write the cache: no HTTP request for these to change.
  ...['accounts', 'logout'].flatMap((command) =>
    [
      ['--proxy', 'http://127.0.0.1:9'],
      ['--app-name', 'n'],
      ['--app-version', '1'],
      ['--no-validate-authority'],
      ['--no-instance-discovery'],
    ].map((option) => ({
      args: [command, '-c', 'x', ...option],
      stderr: new RegExp(`^msal-ts: usage: unknown option '${option[0]}'`),
    })),
  ),
  ...['login', 'token', 'auth-url', 'redeem', 'migrate-rt'].map((command) => ({
    args: [command, '-c', 'x', '--region', 'westus'],
    stderr: /^msal-ts: usage: unknown option '--region'/,
  })),
  // An authorization URL caches no token, so there is nothing to share through Redis.
  {
    args: ['auth-url', '-c', 'x', '--cache-url', 'redis://127.0.0.1:9'],
    stderr: /^msal-ts: usage: unknown option '--cache-url'/,
  },
]

const appToken = ['client-token', '-c', 'x', '-s', graphApp]

/** Options that cannot act with the rest of the command line: exit 2 naming the conflict. */
const conflicts: Refusal[] = [
  // --cache-dir names where the default cache file lives; beside a named file it would do nothing.
  {
    args: [...appToken, '--cache-file', 'a.json', '--cache-dir', 'b'],
    stderr:
      /^msal-ts: conflicting_options: --cache-file and --cache-dir cannot be used together: --cache-file names the cache file itself, --cache-dir where the default one lives\n$/,
  },
  // Client credentials add no reserved scope: there is nothing for --exclude-scope to drop.
  {
    args: [...appToken, '--exclude-scope', 'offline_access'],
    stderr:
      /^msal-ts: conflicting_options: --exclude-scope goes with --on-behalf-of: client credentials add no scope to exclude\n$/,
  },
  {
    args: [...appToken, '--on-behalf-of', 'user.jwt', '--region', 'westus'],
    stderr:
      /^msal-ts: conflicting_options: --region acts on client credentials only, not with --on-behalf-of\n$/,
  },
  // Regional endpoints are Entra ID's, on a host name a region can prefix.
  ...[
    [
      '--oidc-authority',
      'https://idp.example.com',
      'generic OpenID authority \\(idp\\.example\\.com\\)',
    ],
    ['-a', 'https://adfs.contoso.com/adfs', 'ADFS authority'],
    ['-a', 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin', 'B2C authority'],
    ['-a', 'https://contoso.ciamlogin.com/', 'CIAM authority'],
    ['-a', 'https://127.0.0.1:9/tenant', 'authority at an IP address \\(127\\.0\\.0\\.1:9\\)'],
  ].map(([option = '', authority = '', names = '']) => ({
    args: [...appToken, option, authority, '--region', 'westus'],
    stderr: new RegExp(
      `^msal-ts: conflicting_options: --region: regional endpoints exist only for Entra ID authorities on a host name, not for an? ${names}`,
    ),
  })),
  // serve's client credential source refuses them as client-token does.
  {
    args: ['serve', '-c', 'x', '--exclude-scope', 'offline_access'],
    env: { AZURE_CLIENT_SECRET: 's' },
    stderr:
      /^msal-ts: conflicting_options: --exclude-scope goes with a signed-in account: client credentials add no scope to exclude\n$/,
  },
  // git-credential has no --on-behalf-of: the refusal names what it does have.
  {
    args: [
      'git-credential',
      'get',
      '-c',
      'x',
      '--client-secret-file',
      'secret.txt',
      '--exclude-scope',
      'offline_access',
    ],
    input: 'protocol=https\nhost=dev.azure.com\n\n',
    stderr:
      /^msal-ts: conflicting_options: --exclude-scope goes with a signed-in account: client credentials add no scope to exclude\n$/,
  },
  {
    args: ['serve', '-c', 'x', '-a', 'https://adfs.contoso.com/adfs', '--region', 'westus'],
    env: { AZURE_CLIENT_SECRET: 's' },
    stderr:
      /^msal-ts: conflicting_options: --region: regional endpoints exist only for Entra ID authorities on a host name, not for an? ADFS authority/,
  },
  // accounts and logout keep the TLS and timeout options for a Redis cache, and only for one.
  ...['accounts', 'logout'].flatMap((command) =>
    [['--timeout', '5'], ['--ca-file', 'ca.pem'], ['--insecure']].map((option) => ({
      args: [command, '-c', 'x', ...option],
      stderr: new RegExp(
        `^msal-ts: conflicting_options: ${option[0]} cannot act without a Redis token cache \\(--cache-url or MSAL_TS_CACHE_URL\\)\n$`,
      ),
    })),
  ),
  ...['--client-assertion', '--client-assertion-file'].map((option) => ({
    args: ['client-token', '-c', 'x', '-s', graphApp, '--client-claims', '{}', option, 'a.jwt'],
    stderr: new RegExp(`^msal-ts: conflicting_options: --client-claims .*not with ${option}\\n$`),
  })),
  {
    args: ['client-token', '-c', 'x', '-s', graphApp, '--client-claims', '{}'],
    env: { AZURE_CLIENT_SECRET: 's' },
    stderr:
      /^msal-ts: conflicting_options: --client-claims goes with a certificate credential, not with a client secret\n$/,
  },
  // One option takes "goes", two or more "go".
  ...[
    [['--thumbprint', 'abcd'], '--thumbprint goes'] as const,
    [['--send-x5c'], '--send-x5c goes'] as const,
    [['--certificate-password-stdin'], '--certificate-password-stdin goes'] as const,
    [['--thumbprint', 'abcd', '--send-x5c'], '--thumbprint, --send-x5c go'] as const,
  ].map(([option, says]) => ({
    args: [...appToken, ...option],
    env: { AZURE_CLIENT_SECRET: 's' },
    stderr: new RegExp(
      `^msal-ts: conflicting_options: ${says} with a certificate, and the credential is a client secret\\n$`,
    ),
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
  // A federated token file is read as it is: the companions of the CI runtimes cannot act on it.
  ...[
    ['client-token', '-c', 'x', '-s', graphApp],
    ['serve', '-c', 'x'],
    ['redeem', '-c', 'x', '--code', 'c', '-s', 'User.Read'],
    ['git-credential', 'get', '-c', 'x'],
  ].flatMap((command) =>
    [
      ['--federated-audience', 'aud', 'github'],
      ['--service-connection-id', 'id', 'azure-pipelines'],
    ].map(([option = '', value = '', runtime = '']) => ({
      args: [...command, '--federated-token', 'file:t.jwt', option, value],
      input: 'protocol=https\nhost=dev.azure.com\n\n',
      stderr: new RegExp(
        `^msal-ts: conflicting_options: ${option} goes with --federated-token ${runtime}\\n$`,
      ),
    })),
  ),
  // An empty resource would ask for the scope "/.default".
  ...[
    ['client-token', '-c', 'x', '--resource', ''],
    ['client-token', '-c', 'x', '--resource', ' '],
    ['client-token', '--managed-identity', '--resource', ' '],
    ['token', '-c', 'x', '--resource', ''],
    ['token', '-c', 'x', '--resource', ' '],
  ].map((args) => ({
    args,
    env: { AZURE_CLIENT_SECRET: 's' },
    stderr: /^msal-ts: missing_resource: --resource is empty\n$/,
  })),
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
    for (const { args, stderr, env, input } of conflicts) {
      const result = await run(home, args, {
        ...(env ? { env } : {}),
        ...(input !== undefined ? { input } : {}),
      })
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, stderr, args.join(' '))
      assertNoStack(result.stderr)
      assert.equal(result.stdout, '')
    }
  })

  test('TLS and timeout defaults from the environment or a profile are no error where nothing uses them', async () => {
    const home = await tempDir()
    for (const [key, value] of [
      ['timeout', '5'],
      ['ca-file', join(home, 'ca.pem')],
    ] as const) {
      await writeFile(join(home, 'ca.pem'), '')
      assert.equal((await run(home, ['config', 'set', key, value])).exitCode, 0)
    }
    for (const command of [
      ['accounts', '-o', 'json'],
      ['logout', '--all', '--yes'],
    ]) {
      const result = await run(home, [...command, '-c', 'x'], {
        env: { MSAL_TS_TIMEOUT: '7', SSL_CERT_FILE: join(home, 'ca.pem') },
      })
      assert.equal(result.exitCode, 0, `${command.join(' ')}: ${result.stderr}`)
    }
  })

  test('a region from the environment or a profile is no error with an authority that has no regions', async () => {
    const home = await tempDir()
    assert.equal((await run(home, ['config', 'set', 'region', 'westus'])).exitCode, 0)
    // Refused as --region would be, the token request would never be made: here it is made, to a port nobody serves.
    const result = await run(
      home,
      [...appToken, '--oidc-authority', 'https://127.0.0.1:9', '--timeout', '2'],
      { env: { MSAL_TS_REGION: 'eastus', AZURE_CLIENT_SECRET: 's' } },
    )
    assert.equal(result.exitCode, 1, result.stderr)
    assert.doesNotMatch(result.stderr, /region/)
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

  test('client-token --on-behalf-of --force-refresh asks again instead of using the cached token; --exclude-scope drops offline_access', async () => {
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
    const excluded = await run(
      home,
      [...args, '--force-refresh', '--exclude-scope', 'offline_access'],
      { env },
    )
    assert.equal(excluded.exitCode, 0, excluded.stderr)
    const obo = sts.tokenRequests()
    assert.equal(obo.length, 3, 'each forced run made its own request')
    assert.equal(obo[1]?.form?.['requested_token_use'], 'on_behalf_of')
    // On behalf of a user the reserved scopes are added, so --exclude-scope has one to drop.
    assert.ok(obo[1]?.form?.['scope']?.split(' ').includes('offline_access'))
    assert.ok(!obo[2]?.form?.['scope']?.split(' ').includes('offline_access'))
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

  test('token --resource asks for <resource>/.default with the refresh token', async () => {
    const home = await tempDir()
    const login = await passwordLogin(home, '--scope', graphRead)
    assert.equal(login.exitCode, 0, login.stderr)
    sts.clearLog()
    const result = await run(home, ['token', ...pub, '--resource', 'https://vault.azure.net'])
    assert.equal(result.exitCode, 0, result.stderr)
    const [request, ...more] = sts.tokenRequests()
    assert.deepEqual(more, [])
    assert.equal(request?.form?.['grant_type'], 'refresh_token')
    assert.equal(
      request?.form?.['scope'],
      'https://vault.azure.net/.default offline_access openid profile',
    )
  })

  test('login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge', async () => {
    const home = await tempDir()
    const client = browserlessClient(sts)
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    try {
      const signIn = startLogin(home, [
        'login',
        ...pub,
        '--scope',
        graphRead,
        '--no-browser',
        '--prompt',
        'login',
        '--login-hint',
        sts.defaults.username,
        '--domain-hint',
        'contoso.com',
        '--claims-challenge',
        claims,
      ])
      const url = await signIn.url
      assert.deepEqual(
        ['prompt', 'login_hint', 'domain_hint', 'claims'].map((k) => url.searchParams.get(k)),
        ['login', sts.defaults.username, 'contoso.com', claims],
      )
      sts.clearLog()
      await client.get(await client.authorize(url))
      const result = await signIn.done
      assert.equal(result.exitCode, 0, result.stderr)
      assert.deepEqual(afterAdvice(result.stderr).split('\n'), [
        url.toString(),
        `Signed in as ${sts.defaults.username}`,
        '',
      ])
      assert.equal(sts.tokenRequests().at(-1)?.form?.['claims'], claims)
    } finally {
      await client.close()
    }
  })

  test('redeem --code: --nonce is checked against the ID token; --claims-challenge goes on the wire', async () => {
    const home = await tempDir()
    const client = browserlessClient(sts)
    const webApp = { clientId: 'c0de0000-0000-4000-8000-0000000000c2', secret: 'web secret' }
    const callback = 'https://app.contoso.test/callback'
    sts.addClient({ ...webApp, redirectUris: [callback] })
    const app = sts.cliArgs(webApp.clientId)
    const env = { AZURE_CLIENT_SECRET: webApp.secret }
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    const code = async () => {
      const url = await run(home, [
        'auth-url',
        ...app,
        '--scope',
        graphRead,
        '--redirect-uri',
        callback,
        '--nonce',
        'n-0',
        '--login-hint',
        sts.defaults.username,
      ])
      assert.equal(url.exitCode, 0, url.stderr)
      const location = await client.authorize(new URL(url.stdout.trim()))
      return location.searchParams.get('code') ?? ''
    }
    const redeem = async (...extra: string[]) =>
      run(
        home,
        [
          'redeem',
          ...app,
          '--code',
          await code(),
          '--scope',
          graphRead,
          '--redirect-uri',
          callback,
          ...extra,
        ],
        { env },
      )
    try {
      const wrong = await redeem('--nonce', 'n-1')
      assert.equal(wrong.exitCode, 1)
      assert.equal(wrong.stdout, '')
      assert.match(wrong.stderr, /^msal-ts: invalid_id_token: .*nonce/)
      sts.clearLog()
      const right = await redeem('--nonce', 'n-0', '--claims-challenge', claims)
      assert.equal(right.exitCode, 0, right.stderr)
      assert.equal(sts.tokenRequests().at(-1)?.form?.['claims'], claims)
    } finally {
      await client.close()
    }
  })

  test('auth-url --flow-file: every parameter of initiate_auth_code_flow reaches the URL and the flow', async () => {
    const home = await tempDir()
    const file = join(home, 'flow.json')
    const redirectUri = 'http://localhost:8400'
    const claims = '{"id_token":{"acrs":{"essential":true}}}'
    const result = await run(home, [
      'auth-url',
      ...pub,
      '--scope',
      graphRead,
      '--flow-file',
      file,
      '--redirect-uri',
      redirectUri,
      '--state',
      'st-1',
      '--prompt',
      'login',
      '--login-hint',
      sts.defaults.username,
      '--domain-hint',
      'contoso.com',
      '--claims-challenge',
      claims,
      '--max-age',
      '600',
      '--response-mode',
      'form_post',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const query = new URL(result.stdout.trim()).searchParams
    assert.deepEqual(
      ['redirect_uri', 'state', 'prompt', 'login_hint', 'domain_hint', 'claims', 'max_age'].map(
        (name) => query.get(name),
      ),
      [redirectUri, 'st-1', 'login', sts.defaults.username, 'contoso.com', claims, '600'],
    )
    assert.equal(query.get('response_mode'), 'form_post')
    const flow = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    assert.equal(flow['state'], 'st-1')
    assert.equal(flow['redirect_uri'], redirectUri)
  })

  test("redeem --flow-file --scope asks for that subset of the flow's scopes", async () => {
    const home = await tempDir()
    const client = browserlessClient(sts)
    const file = join(home, 'flow.json')
    const mail = 'https://graph.microsoft.com/Mail.Read'
    const started = await run(home, [
      'auth-url',
      ...pub,
      '--scope',
      graphRead,
      '--scope',
      mail,
      '--redirect-uri',
      'http://localhost:8400',
      '--login-hint',
      sts.defaults.username,
      '--flow-file',
      file,
    ])
    assert.equal(started.exitCode, 0, started.stderr)
    try {
      const location = await client.authorize(new URL(started.stdout.trim()))
      sts.clearLog()
      const redeemed = await run(home, [
        'redeem',
        ...pub,
        '--flow-file',
        file,
        '--response',
        location.toString(),
        '--scope',
        mail,
      ])
      assert.equal(redeemed.exitCode, 0, redeemed.stderr)
      assert.equal(
        sts.tokenRequests().at(-1)?.form?.['scope'],
        `${mail} offline_access openid profile`,
      )
    } finally {
      await client.close()
    }
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

describe('common and credential options, on the wire and in the output', () => {
  let sts: Sts
  let conf: string[]
  let cert: ReturnType<typeof makeClientCertificate>
  const certClient = '0b7e0000-0000-4000-8000-0000000000c1'
  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  before(async () => {
    sts = await startSts()
    conf = ['client-token', ...sts.cliArgs(sts.defaults.confidentialClientId), '-s', graphApp]
    cert = makeClientCertificate(await tempDir(), 'app')
    sts.addClient({ clientId: certClient, certificatePem: cert.certPem })
  })
  after(() => sts.close())

  test('--cloud and --tenant make the authority the token request goes to', async () => {
    const home = await tempDir()
    sts.clearLog()
    const args = ['client-token', '-c', sts.defaults.confidentialClientId, '-s', graphApp]
    const tls = ['--ca-file', sts.caFile]
    const result = await run(
      home,
      [...args, ...tls, '--cloud', sts.url, '--tenant', sts.tenantId],
      {
        env: secretEnv(),
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(
      sts.tokenRequests().map((r) => r.path),
      [`/${sts.tenantId}/oauth2/v2.0/token`],
    )
  })

  test('--no-instance-discovery asks no instance discovery even with an endpoint configured', async () => {
    const home = await tempDir()
    const env = {
      ...secretEnv(),
      MSAL_TS_INSTANCE_DISCOVERY_URL: `${sts.url}/common/discovery/instance`,
    }
    sts.clearLog()
    const result = await run(home, [...conf, '--no-instance-discovery'], { env })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(
      sts.log.map((r) => r.path),
      [
        `/${sts.tenantId}/v2.0/.well-known/openid-configuration`,
        `/${sts.tenantId}/oauth2/v2.0/token`,
      ],
    )
  })

  test('--no-cache writes no cache file, so every run asks the provider', async () => {
    const home = await tempDir()
    const cacheDir = join(home, 'cache')
    sts.clearLog()
    for (const round of [1, 2]) {
      // A cache directory from the environment is a default for other runs, not a conflict.
      const result = await run(home, [...conf, '--no-cache'], {
        env: { ...secretEnv(), MSAL_TS_CACHE_DIR: cacheDir },
      })
      assert.equal(result.exitCode, 0, `run ${String(round)}: ${result.stderr}`)
    }
    assert.equal(sts.tokenRequests().length, 2)
    assert.deepEqual(await readdir(cacheDir).catch(() => []), [])
  })

  test('--app-name and --app-version go out as x-app-name and x-app-ver', async () => {
    const home = await tempDir()
    sts.clearLog()
    const result = await run(
      home,
      [...conf, '--app-name', 'contoso-tool', '--app-version', '1.2.3'],
      {
        env: secretEnv(),
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const request = sts.tokenRequests().at(-1)
    assert.equal(request?.headers['x-app-name'], 'contoso-tool')
    assert.equal(request?.headers['x-app-ver'], '1.2.3')
  })

  test('--verbose logs every request at debug level; without it nothing is logged', async () => {
    const quiet = await run(await tempDir(), conf, { env: secretEnv() })
    assert.equal(quiet.exitCode, 0, quiet.stderr)
    assert.equal(quiet.stderr, '')
    const verbose = await run(await tempDir(), [...conf, '--verbose'], { env: secretEnv() })
    assert.equal(verbose.exitCode, 0, verbose.stderr)
    assert.match(
      verbose.stderr,
      /^msal-ts: debug: http POST https:\/\/127\.0\.0\.1:\d+\/[\w-]+\/oauth2\/v2\.0\/token 200 /m,
    )
  })

  test("--verbose traces an error to the TypeScript sources, though the CLI's bundle is minified", async () => {
    const args = ['client-token', '-c', 'x', '-a', sts.authority()]
    const plain = await run(await tempDir(), args)
    assert.equal(plain.exitCode, 2)
    assertNoStack(plain.stderr)
    const verbose = await run(await tempDir(), [...args, '--verbose'])
    assert.equal(verbose.exitCode, 2, verbose.stderr)
    assert.match(verbose.stderr, /^msal-ts: missing_scope: /m)
    assert.match(verbose.stderr, /^UsageError: a scope is required/m)
    assert.match(verbose.stderr, /^ {4}at .*src\/commands\/shared\/scope-options\.ts:\d+:\d+\)$/m)
    assert.doesNotMatch(verbose.stderr, /msal-ts\.cjs:\d+/)
  })

  test('-v given as the value of another option asks for no stack trace', async () => {
    const result = await run(
      await tempDir(),
      ['client-token', '-c', 'x', '-a', sts.authority(), '--scope', '-v', '--client-secret-stdin'],
      { input: '' },
    )
    assert.equal(result.exitCode, 2, result.stderr)
    assert.match(result.stderr, /^msal-ts: \w+: /)
    assertNoStack(result.stderr)
  })

  test('--cache-dir beats a cache file the environment names: the cache goes to the directory', async () => {
    const home = await tempDir()
    const envFile = join(home, 'from-env.json')
    const dir = join(home, 'given-dir')
    const result = await run(home, [...conf, '--cache-dir', dir], {
      env: { ...secretEnv(), MSAL_TS_CACHE_FILE: envFile },
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.ok((await readdir(dir)).some((name) => name.endsWith('.json')))
    assert.ok(!(await readdir(home)).includes('from-env.json'))
  })

  test('a cache directory from the environment beats a cache file from the profile; both from one layer are refused', async () => {
    const home = await tempDir()
    const profileFile = join(home, 'from-profile.json')
    assert.equal((await run(home, ['config', 'set', 'cache-file', profileFile])).exitCode, 0)
    const dir = join(home, 'env-dir')
    const result = await run(home, conf, { env: { ...secretEnv(), MSAL_TS_CACHE_DIR: dir } })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.ok((await readdir(dir)).some((name) => name.endsWith('.json')))
    assert.ok(!(await readdir(home)).includes('from-profile.json'))
    const both = await run(home, conf, {
      env: { ...secretEnv(), MSAL_TS_CACHE_DIR: dir, MSAL_TS_CACHE_FILE: join(home, 'x.json') },
    })
    assert.equal(both.exitCode, 2)
    assert.match(
      both.stderr,
      /^msal-ts: conflicting_options: MSAL_TS_CACHE_FILE and MSAL_TS_CACHE_DIR cannot be used together: /,
    )
    assert.equal(both.stdout, '')
  })

  test('--pii shows the user name the debug log otherwise masks', async () => {
    const username = sts.defaults.username
    const login = async (...extra: string[]) =>
      run(
        await tempDir(),
        [
          'login',
          ...sts.cliArgs(sts.defaults.publicClientId),
          '--username',
          username,
          '--password-stdin',
          '--log-level',
          'debug',
          ...extra,
        ],
        { input: sts.defaults.password },
      )
    const masked = await login()
    assert.equal(masked.exitCode, 0, masked.stderr)
    assert.match(masked.stderr, /^msal-ts: debug: http GET \S+\/userrealm\/\*\*\*\?/m)
    const shown = await login('--pii')
    assert.equal(shown.exitCode, 0, shown.stderr)
    assert.match(shown.stderr, new RegExp(`/userrealm/${encodeURIComponent(username)}\\?`))
  })

  test('--client-secret-file: the secret in the file is the one sent', async () => {
    const home = await tempDir()
    const file = join(home, 'secret')
    await writeFile(file, `${sts.defaults.clientSecret}\n`, { mode: 0o600 })
    sts.clearLog()
    const result = await run(home, [...conf, '--client-secret-file', file])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_secret'], sts.defaults.clientSecret)
  })

  test('--private-key signs for a certificate-only file; --thumbprint is the x5t sent', async () => {
    const home = await tempDir()
    const base = ['client-token', ...sts.cliArgs(certClient), '-s', graphApp]
    const noKey = await run(home, [...base, '--certificate', cert.certFile])
    assert.equal(noKey.exitCode, 2)
    assert.match(noKey.stderr, /^msal-ts: invalid_certificate: no PEM private key/)
    const withKey = [...base, '--certificate', cert.certFile, '--private-key', cert.keyFile]
    sts.clearLog()
    const signed = await run(home, withKey)
    assert.equal(signed.exitCode, 0, signed.stderr)
    const assertion = sts.tokenRequests().at(-1)?.assertion
    assert.equal(assertion?.valid, true, assertion?.failure)

    const other = '00'.repeat(20)
    const named = await run(home, [...withKey, '--thumbprint', other, '--force-refresh'])
    assert.equal(named.exitCode, 1, 'the STS knows the certificate by its real thumbprint')
    assert.equal(named.stdout, '')
    const sent = sts.tokenRequests().at(-1)?.assertion?.header['x5t']
    assert.equal(String(sent).replace(/=+$/, ''), Buffer.from(other, 'hex').toString('base64url'))
  })

  test('--client-assertion: the assertion given is the one sent', async () => {
    const home = await tempDir()
    const key = await importPKCS8(cert.keyPem, 'RS256')
    const jwt = await new SignJWT({ jti: 'given' })
      .setProtectedHeader({
        alg: 'RS256',
        x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
      })
      .setIssuer(certClient)
      .setSubject(certClient)
      .setAudience(`${sts.url}/${sts.tenantId}/oauth2/v2.0/token`)
      .setExpirationTime('10m')
      .sign(key)
    sts.clearLog()
    const result = await run(home, [
      'client-token',
      ...sts.cliArgs(certClient),
      '-s',
      graphApp,
      '--client-assertion',
      jwt,
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_assertion'], jwt)
  })
})
