import assert from 'node:assert/strict'
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  readdir,
  readFile,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { Agent, request } from 'undici'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

const graphRead = 'https://graph.microsoft.com/User.Read'
const redirectUri = 'http://localhost:8400'

/** The default token cache file a run left in its home. */
async function readCache(home: string): Promise<string> {
  const dir = join(home, 'cache')
  const name = (await readdir(dir)).find((n) => n.startsWith('token-cache.'))
  return readFile(join(dir, name ?? 'missing'), 'utf8')
}

describe('web-app and migration flows', () => {
  let sts: Sts
  let browser: Agent
  let pub: string[]
  let conf: string[]

  before(async () => {
    sts = await startSts()
    browser = new Agent({ connect: { ca: sts.caPem } })
    pub = sts.cliArgs(sts.defaults.publicClientId)
    conf = sts.cliArgs(sts.defaults.confidentialClientId)
  })
  after(async () => {
    await browser.close()
    await sts.close()
  })

  /** What the browser would do at the authorize URL: follow it to the redirect (or the form_post page). */
  async function authorize(url: string): Promise<string> {
    const res = await request(url, { dispatcher: browser })
    const body = await res.body.text()
    if (res.statusCode === 302) {
      return String(res.headers['location'])
    }
    const fields = [...body.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map(
      ([, n, v]): [string, string] => [n ?? '', v ?? ''],
    )
    return new URLSearchParams(fields).toString()
  }

  const authUrl = (home: string, file: string, extra: string[] = []) =>
    run(home, [
      'auth-url',
      ...pub,
      '--scope',
      graphRead,
      '--redirect-uri',
      redirectUri,
      '--flow-file',
      file,
      ...extra,
    ])

  async function startFlow(
    home: string,
    extra: string[] = [],
  ): Promise<{ file: string; url: string }> {
    const file = join(home, 'flow.json')
    const result = await authUrl(home, file, extra)
    assert.equal(result.exitCode, 0, result.stderr)
    return { file, url: result.stdout.trim() }
  }

  test('a flow file that cannot be written is one line naming the file and why, with no temporary file in it', async () => {
    const home = await tempDir()
    const fifo = join(home, 'fifo')
    await execa('mkfifo', [fifo])
    const cases = [
      { file: join(home, 'missing', 'flow.json'), reason: 'no such file or directory' },
      { file: home, reason: 'it is a directory' },
      { file: fifo, reason: 'it is not a regular file (a FIFO, socket or device)' },
      { file: `${join(home, 'new')}/`, reason: 'it names a directory' },
    ]
    for (const { file, reason } of cases) {
      const result = await authUrl(home, file)
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(
        result.stderr,
        `msal-ts: unwritable_file: cannot write the flow file ${file}: ${reason}\n`,
      )
      assert.equal(result.stdout, '')
    }
    assert.deepEqual(
      (await readdir(home)).filter((name) => name.endsWith('.tmp')),
      [],
    )
    const empty = await authUrl(home, '')
    assert.equal(empty.exitCode, 2)
    assert.equal(
      empty.stderr,
      'msal-ts: invalid_option: --flow-file takes a value, not an empty one\n',
    )
  })

  test('auth-url puts every parameter given on the wire, as MSAL does', async () => {
    const home = await tempDir()
    const result = await run(home, [
      'auth-url',
      ...pub,
      '--scope',
      graphRead,
      '--redirect-uri',
      redirectUri,
      '--state',
      'st',
      '--nonce',
      'raw-nonce',
      '--prompt',
      'select_account',
      '--login-hint',
      'bob@contoso.com',
      '--domain-hint',
      'contoso.com',
      '--claims-challenge',
      '{"id_token":{"acrs":{"essential":true}}}',
      '--max-age',
      '600',
      '--response-mode',
      'form_post',
      '--response-type',
      'code',
      '--capability',
      'CP1',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const url = new URL(result.stdout.trim())
    assert.equal(url.origin + url.pathname, `${sts.url}/${sts.tenantId}/oauth2/v2.0/authorize`)
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      client_id: sts.defaults.publicClientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: `${graphRead} offline_access openid profile`,
      state: 'st',
      nonce: 'raw-nonce',
      login_hint: 'bob@contoso.com',
      prompt: 'select_account',
      domain_hint: 'contoso.com',
      claims:
        '{"id_token":{"acrs":{"essential":true}},"access_token":{"xms_cc":{"values":["CP1"]}}}',
      max_age: '600',
      response_mode: 'form_post',
    })
  })

  test('a flow file (0600) is redeemed with the redirect URL, once', async () => {
    const home = await tempDir()
    const { file, url } = await startFlow(home, ['--login-hint', sts.defaults.username])
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    const flow = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    const query = new URL(url).searchParams
    assert.equal(query.get('state'), flow['state'])
    assert.equal(query.get('code_challenge_method'), 'S256')
    assert.equal(query.get('client_info'), '1')
    assert.equal(query.get('X-AnchorMailbox'), `UPN:${sts.defaults.username}`)
    assert.notEqual(query.get('nonce'), flow['nonce'], 'the URL carries the hash of the nonce')
    assert.ok(String(flow['code_verifier']).length >= 43)

    const location = await authorize(url)
    const redeemed = await run(home, [
      'redeem',
      ...pub,
      '--flow-file',
      file,
      '--response',
      location,
      '-o',
      'json',
    ])
    assert.equal(redeemed.exitCode, 0, redeemed.stderr)
    const token = JSON.parse(redeemed.stdout) as Record<string, Record<string, unknown>>
    assert.equal(token['account']?.['username'], sts.defaults.username)
    assert.equal(token['refresh_token'], undefined)
    const form = sts.tokenRequests().at(-1)?.form
    assert.equal(form?.['grant_type'], 'authorization_code')
    assert.equal(form?.['code_verifier'], flow['code_verifier'])
    assert.equal(form?.['redirect_uri'], redirectUri)

    const replay = await run(home, ['redeem', ...pub, '--flow-file', file, '--response', location])
    assert.notEqual(replay.exitCode, 0)
    assert.equal(replay.stdout, '')
    assert.match(replay.stderr, /^msal-ts: invalid_grant: AADSTS54005: /)
    assertNoStack(replay.stderr)
  })

  test("a flow file that is not the user's own is refused before anything is redeemed", async () => {
    const home = await tempDir()
    const { file, url } = await startFlow(home, [])
    const location = await authorize(url)
    const open = join(await tempDir(), 'shared')
    await mkdir(open)
    await chmod(open, 0o1777)
    await symlink(file, join(open, 'flow.json'))
    const theirs = join(home, 'theirs.json')
    await copyFile(file, theirs)
    await chown(theirs, 65534, 65534)
    for (const [path, why] of [
      [join(open, 'flow.json'), /a symbolic link in .*shared, a directory other users can write/],
      [theirs, /it belongs to uid 65534, not to this user/],
    ] as const) {
      sts.clearLog()
      const result = await run(home, [
        'redeem',
        ...pub,
        '--flow-file',
        path,
        '--response',
        location,
      ])
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: unreadable_file: cannot read the flow file /)
      assert.match(result.stderr, why)
      assert.deepEqual(sts.tokenRequests(), [])
    }
  })

  test('redeem --code: a bare code with --scope and --redirect-uri, once; token is then a cache hit', async () => {
    const home = await tempDir()
    const webApp = { clientId: 'c0de0000-0000-4000-8000-0000000000c0', secret: 'web app secret' }
    const callback = 'https://app.contoso.test/callback'
    sts.addClient({ ...webApp, redirectUris: [callback] })
    const app = sts.cliArgs(webApp.clientId)
    const scope = ['--scope', graphRead]
    const url = await run(home, [
      'auth-url',
      ...app,
      ...scope,
      '--redirect-uri',
      callback,
      '--login-hint',
      sts.defaults.username,
    ])
    assert.equal(url.exitCode, 0, url.stderr)
    const code = new URL(await authorize(url.stdout.trim())).searchParams.get('code')
    assert.ok(code, 'the provider sent a code to the callback')

    const redeem = ['redeem', ...app, '--code', code, ...scope, '--redirect-uri', callback]
    const env = { AZURE_CLIENT_SECRET: webApp.secret }
    sts.clearLog()
    const redeemed = await run(home, [...redeem, '-o', 'json'], { env })
    assert.equal(redeemed.exitCode, 0, redeemed.stderr)
    const token = JSON.parse(redeemed.stdout) as Record<string, unknown>
    assert.equal((token['account'] as Record<string, unknown>)['username'], sts.defaults.username)
    assert.equal(token['token_source'], 'identity_provider')
    const [request, ...more] = sts.tokenRequests()
    assert.deepEqual(more, [])
    assert.deepEqual(
      {
        ...request?.form,
        client_info: undefined,
        'x-client-current-telemetry': request?.headers['x-client-current-telemetry'],
      },
      {
        client_id: webApp.clientId,
        client_secret: webApp.secret,
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback,
        scope: `${graphRead} offline_access openid profile`,
        client_info: undefined,
        'x-client-current-telemetry': '4|832,0|',
      },
    )

    sts.clearLog()
    const cached = await run(home, ['token', ...app, ...scope])
    assert.equal(cached.exitCode, 0, cached.stderr)
    assert.equal(cached.stdout.trim(), token['access_token'])
    assert.deepEqual(sts.tokenRequests(), [])

    const replay = await run(home, redeem, { env })
    assert.equal(replay.exitCode, 3, 'a used code means signing in again')
    assert.equal(replay.stdout, '')
    assert.match(replay.stderr, /^msal-ts: invalid_grant: AADSTS54005: /)
    assertNoStack(replay.stderr)
  })

  test('a form_post body on stdin, and a JSON response, are redeemed too', async () => {
    const home = await tempDir()
    const { file, url } = await startFlow(home, ['--response-mode', 'form_post'])
    const body = await authorize(url)
    assert.match(body, /code=/)
    const fromStdin = await run(home, ['redeem', ...pub, '--flow-file', file, '--response', '-'], {
      input: body,
    })
    assert.equal(fromStdin.exitCode, 0, fromStdin.stderr)
    const second = await startFlow(home)
    const params = Object.fromEntries(new URL(await authorize(second.url)).searchParams)
    const fromJson = await run(home, [
      'redeem',
      ...pub,
      '--flow-file',
      second.file,
      '--response',
      JSON.stringify(params),
    ])
    assert.equal(fromJson.exitCode, 0, fromJson.stderr)
  })

  test('a tampered state is exit 2 and nothing is redeemed', async () => {
    const home = await tempDir()
    const { file, url } = await startFlow(home)
    const location = new URL(await authorize(url))
    location.searchParams.set('state', 'forged')
    sts.clearLog()
    const result = await run(home, [
      'redeem',
      ...pub,
      '--flow-file',
      file,
      '--response',
      location.toString(),
    ])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^msal-ts: state_mismatch: /)
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('an error response is reported with its error fields only, exit 1', async () => {
    const home = await tempDir()
    const { file } = await startFlow(home)
    const flow = JSON.parse(await readFile(file, 'utf8')) as { state: string }
    sts.clearLog()
    const response = `error=access_denied&error_description=The+user+said+no&state=${flow.state}&access_token=injected`
    const result = await run(home, ['redeem', ...pub, '--flow-file', file, '--response', response])
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^msal-ts: access_denied: The user said no\n/)
    assert.ok(!result.stderr.includes('injected'))
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('a wrong nonce, or a sign-in older than max_age, is refused and nothing is cached', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'cache.json')
    try {
      sts.settings.idTokenClaims = { nonce: 'forged' }
      const { file, url } = await startFlow(home)
      const wrongNonce = await run(home, [
        'redeem',
        ...pub,
        '--cache-file',
        cacheFile,
        '--flow-file',
        file,
        '--response',
        await authorize(url),
      ])
      assert.equal(wrongNonce.exitCode, 1)
      assert.match(wrongNonce.stderr, /^msal-ts: invalid_id_token: .*nonce/)

      sts.settings.idTokenClaims = { auth_time: Math.floor(Date.now() / 1000) - 3600 }
      const old = await startFlow(home, ['--max-age', '60'])
      assert.equal(new URL(old.url).searchParams.get('max_age'), '60')
      const tooOld = await run(home, [
        'redeem',
        ...pub,
        '--cache-file',
        cacheFile,
        '--flow-file',
        old.file,
        '--response',
        await authorize(old.url),
      ])
      assert.equal(tooOld.exitCode, 1)
      assert.match(tooOld.stderr, /^msal-ts: invalid_id_token: .*max_age/)
    } finally {
      sts.settings.idTokenClaims = {}
    }
    const cached = await readFile(cacheFile, 'utf8').catch(() => '{}')
    assert.ok(!cached.includes('"secret"'), 'no token was cached')
  })

  test('migrate-rt from stdin and from a file; the account is printed and token is then a cache hit', async () => {
    const source = await tempDir()
    const login = await run(
      source,
      [
        'login',
        ...pub,
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        graphRead,
      ],
      { input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const sourceCache = await readCache(source)
    const oldRt =
      Object.values(
        (JSON.parse(sourceCache) as { RefreshToken: Record<string, { secret: string }> })
          .RefreshToken,
      )[0]?.secret ?? ''
    assert.ok(oldRt)

    const home = await tempDir()
    const migrated = await run(
      home,
      ['migrate-rt', ...pub, '--scope', graphRead, '--refresh-token-stdin'],
      { input: `${oldRt}\n` },
    )
    assert.equal(migrated.exitCode, 0, migrated.stderr)
    assert.equal(
      (JSON.parse(migrated.stdout) as { username: string }).username,
      sts.defaults.username,
    )
    assert.match(migrated.stderr, /^Migrated the refresh token of /)
    const form = sts.tokenRequests().at(-1)?.form
    assert.equal(form?.['grant_type'], 'refresh_token')
    assert.equal(sts.tokenRequests().at(-1)?.headers['x-client-current-telemetry'], '4|85,1|')
    const cacheText = await readCache(home)
    assert.ok(!cacheText.includes(oldRt), 'the input refresh token is never stored')
    sts.clearLog()
    const token = await run(home, ['token', ...pub, '--scope', graphRead])
    assert.equal(token.exitCode, 0, token.stderr)
    assert.deepEqual(sts.log, [])

    const fileHome = await tempDir()
    const rtFile = join(fileHome, 'rt.txt')
    await writeFile(rtFile, oldRt)
    const fromFile = await run(fileHome, [
      'migrate-rt',
      ...pub,
      '--scope',
      graphRead,
      '--refresh-token-file',
      rtFile,
      '-o',
      'json',
    ])
    assert.equal(fromFile.exitCode, 0, fromFile.stderr)
    assert.equal((JSON.parse(fromFile.stdout) as Record<string, unknown>)['token_type'], 'Bearer')
    const none = await run(fileHome, ['migrate-rt', ...pub, '--scope', graphRead])
    assert.equal(none.exitCode, 2)
    assert.match(none.stderr, /^msal-ts: missing_refresh_token: /)
  })

  test('on-behalf-of twice: one request, then the cache', async () => {
    const home = await tempDir()
    const middleTier = sts.defaults.confidentialClientId
    const user = await run(
      home,
      [
        'login',
        ...pub,
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        `api://${middleTier}/access_as_user`,
        '-o',
        'raw',
      ],
      {
        input: sts.defaults.password,
      },
    )
    assert.equal(user.exitCode, 0, user.stderr)
    const assertionFile = join(home, 'incoming.jwt')
    await writeFile(assertionFile, user.stdout)
    sts.clearLog()
    const args = ['client-token', ...conf, '--on-behalf-of', assertionFile, '--scope', graphRead]
    const env = { AZURE_CLIENT_SECRET: sts.defaults.clientSecret }
    const first = await run(home, args, { env })
    assert.equal(first.exitCode, 0, first.stderr)
    const second = await run(home, args, { env })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    const obo = sts.tokenRequests()
    assert.equal(obo.length, 1)
    assert.equal(obo[0]?.form?.['grant_type'], 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    assert.equal(obo[0]?.form?.['requested_token_use'], 'on_behalf_of')
    assert.equal(obo[0]?.headers['x-client-current-telemetry'], '4|523,2|')
    const fromStdin = await run(
      home,
      ['client-token', ...conf, '--on-behalf-of', '-', '--scope', graphRead],
      { env, input: user.stdout },
    )
    assert.equal(fromStdin.stdout, first.stdout)
  })

  test('a CP1 capability is in the claims of every token request and of the authorize URL', async () => {
    const home = await tempDir()
    const cp1 = '{"access_token":{"xms_cc":{"values":["CP1"]}}}'
    sts.clearLog()
    const app = await run(
      home,
      ['client-token', ...conf, '--capability', 'CP1', '--scope', 'api://cp1/.default'],
      { env: { AZURE_CLIENT_SECRET: sts.defaults.clientSecret } },
    )
    assert.equal(app.exitCode, 0, app.stderr)
    const user = await run(
      home,
      [
        'login',
        ...pub,
        '--capability',
        'CP1',
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        graphRead,
      ],
      { input: sts.defaults.password },
    )
    assert.equal(user.exitCode, 0, user.stderr)
    const refresh = await run(home, [
      'token',
      ...pub,
      '--capability',
      'CP1',
      '--scope',
      graphRead,
      '--force-refresh',
    ])
    assert.equal(refresh.exitCode, 0, refresh.stderr)
    const grants = sts.tokenRequests().map((r) => [r.form?.['grant_type'], r.form?.['claims']])
    assert.deepEqual(grants, [
      ['client_credentials', cp1],
      ['password', cp1],
      ['refresh_token', cp1],
    ])
    const { url } = await startFlow(home, ['--capability', 'CP1'])
    assert.equal(new URL(url).searchParams.get('claims'), cp1)
  })

  test('--exclude-scope offline_access leaves it off the wire, and no refresh token comes back', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'cache.json')
    const result = await run(
      home,
      [
        'login',
        ...pub,
        '--cache-file',
        cacheFile,
        '--exclude-scope',
        'offline_access',
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        graphRead,
      ],
      {
        input: sts.defaults.password,
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['scope'], `${graphRead} openid profile`)
    const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as { RefreshToken: object }
    assert.deepEqual(doc.RefreshToken, {})
    const reserved = await run(
      home,
      ['login', ...pub, '--username', 'x', '--password-stdin', '--scope', 'openid'],
      { input: 'x' },
    )
    assert.equal(reserved.exitCode, 2)
    assert.match(
      reserved.stderr,
      /^msal-ts: reserved_scope: openid is added by msal-ts itself; leave it out of the scopes given with --scope \(use --exclude-scope to drop profile or offline_access\)\n$/,
    )
  })

  describe('regions', () => {
    let imds: Server
    let imdsSeen: { url: string; metadata: string | undefined }[]
    let imdsAnswer: string | undefined

    before(async () => {
      imdsSeen = []
      imds = createServer((req, res) => {
        imdsSeen.push({
          url: req.url ?? '',
          metadata: req.headers['metadata'] as string | undefined,
        })
        if (imdsAnswer !== undefined) {
          res.end(imdsAnswer)
        }
        // otherwise never answer: the probe must give up on its own
      })
      await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve))
    })
    after(() => {
      imds.closeAllConnections()
      imds.close()
    })

    const localhostAuthority = () => `https://localhost:${new URL(sts.url).port}/${sts.tenantId}`
    const regionArgs = () => [
      'client-token',
      '-c',
      sts.defaults.confidentialClientId,
      '-a',
      localhostAuthority(),
      '--ca-file',
      sts.caFile,
      '--scope',
      'api://regional/.default',
      '--force-refresh',
    ]
    const env = () => ({
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${(imds.address() as AddressInfo).port}`,
    })

    test('--region sends client credentials to the regional host', async () => {
      const home = await tempDir()
      const result = await run(home, [...regionArgs(), '--region', 'westus2'], { env: env() })
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(
        sts.tokenRequests().at(-1)?.headers['host'],
        `westus2.localhost:${new URL(sts.url).port}`,
      )
    })

    test('--region auto: REGION_NAME, then the metadata endpoint, then the global host when it does not answer', async () => {
      const home = await tempDir()
      const named = await run(home, [...regionArgs(), '--region', 'auto'], {
        env: { ...env(), REGION_NAME: 'East US' },
      })
      assert.equal(named.exitCode, 0, named.stderr)
      assert.equal(
        sts.tokenRequests().at(-1)?.headers['host'],
        `eastus.localhost:${new URL(sts.url).port}`,
      )

      imdsAnswer = 'centralus'
      const detected = await run(home, [...regionArgs(), '--region', 'auto'], { env: env() })
      assert.equal(detected.exitCode, 0, detected.stderr)
      assert.equal(
        sts.tokenRequests().at(-1)?.headers['host'],
        `centralus.localhost:${new URL(sts.url).port}`,
      )
      assert.equal(imdsSeen.at(-1)?.metadata, 'true')
      assert.match(
        imdsSeen.at(-1)?.url ?? '',
        /^\/metadata\/instance\/compute\/location\?format=text&api-version=2021-01-01$/,
      )

      imdsAnswer = undefined
      const silent = await run(await tempDir(), [...regionArgs(), '--region', 'auto'], {
        env: env(),
      })
      assert.equal(silent.exitCode, 0, silent.stderr)
      const central = new URL(sts.url).host
      assert.equal(
        sts.tokenRequests().at(-1)?.headers['host'],
        central,
        'the central token endpoint',
      )
    })
  })
})
