import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir, withoutCaFile } from './harness.js'

interface Entry {
  secret?: string
  home_account_id?: string | null
  target?: string
  expires_on?: string
  last_modification_time?: string
  username?: string
  [field: string]: unknown
}
type CacheDoc = Record<
  'AccessToken' | 'RefreshToken' | 'IdToken' | 'Account',
  Record<string, Entry>
>

const userRead = 'User.Read'

/** The claims of a JWT, unchecked: enough to see whom a token is for. */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}

describe('msal-ts token', () => {
  let sts: Sts
  const bob = { username: 'Bob@Contoso.onmicrosoft.com', password: 'bob password 1' }
  let bobUid: string

  before(async () => {
    sts = await startSts()
    bobUid = sts.addUser({ ...bob, name: 'Bob Example' }).uid
  })
  after(() => sts.close())

  const common = () => sts.cliArgs(sts.defaults.publicClientId)
  const token = (home: string, args: string[], env?: Record<string, string>) =>
    run(home, ['token', ...common(), ...args], env ? { env } : {})

  async function login(
    home: string,
    user = { username: sts.defaults.username, password: sts.defaults.password },
    scopes: string[] = [userRead],
  ): Promise<void> {
    const result = await run(
      home,
      [
        'login',
        ...common(),
        '--username',
        user.username,
        '--password-stdin',
        ...scopes.flatMap((s) => ['--scope', s]),
      ],
      { input: `${user.password}\n` },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
  }

  async function cacheFile(home: string): Promise<string> {
    const dir = join(home, 'cache')
    const files = (await readdir(dir)).filter((f) => f.startsWith('token-cache.'))
    assert.equal(files.length, 1, `one token cache file in ${dir}: ${files.join(', ')}`)
    return join(dir, files[0] ?? '')
  }

  async function readCache(home: string): Promise<CacheDoc> {
    return JSON.parse(await readFile(await cacheFile(home), 'utf8')) as CacheDoc
  }

  /** Moves every cached access token to `secondsLeft` before expiry. */
  async function ageAccessTokens(home: string, secondsLeft: number): Promise<void> {
    const doc = await readCache(home)
    const now = Math.floor(Date.now() / 1000)
    for (const at of Object.values(doc.AccessToken)) {
      at.expires_on = String(now + secondsLeft)
    }
    await writeFile(await cacheFile(home), JSON.stringify(doc, null, 4))
  }

  const homeIdOf = (doc: CacheDoc, username: string) => {
    const account = Object.values(doc.Account).find(
      (a) => a.username?.toLowerCase() === username.toLowerCase(),
    )
    assert.ok(account, `an Account entry for ${username}`)
    return String(account.home_account_id)
  }

  test('a cached token is printed with no request at all', async () => {
    const home = await tempDir()
    await login(home)
    const doc = await readCache(home)
    const [at] = Object.values(doc.AccessToken)
    sts.clearLog()
    const result = await token(home, ['--scope', userRead])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, `${at?.secret}\n`)
    assert.equal(result.stderr, '')
    assert.deepEqual(sts.log, [], 'a cache hit makes no request, not even discovery')
    // Any case of the scope finds it, unlike MSAL Python's subset match.
    const lower = await token(home, ['--scope', 'user.read'])
    assert.equal(lower.stdout, result.stdout)
    assert.deepEqual(sts.log, [])
  })

  test('an access token near expiry is refreshed once; the refresh token is updated in place', async () => {
    const home = await tempDir()
    await login(home)
    await ageAccessTokens(home, 120)
    const before = await readCache(home)
    const [[rtKey, oldRt] = []] = Object.entries(before.RefreshToken)
    assert.ok(rtKey && oldRt)
    const homeId = homeIdOf(before, sts.defaults.username)
    assert.equal(homeId, `${homeId.split('.')[0]}.${sts.tenantId}`)

    sts.clearLog()
    const result = await token(home, ['--scope', userRead, '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    const out = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(out['token_source'], 'identity_provider')

    const requests = sts.tokenRequests()
    assert.equal(requests.length, 1, 'exactly one token request')
    const [request] = requests
    assert.deepEqual(request?.form, {
      grant_type: 'refresh_token',
      refresh_token: oldRt.secret,
      scope: 'User.Read offline_access openid profile',
      client_id: sts.defaults.publicClientId,
      client_info: '1',
    })
    assert.equal(request?.headers['x-anchormailbox'], `Oid:${homeId.replace('.', '@')}`)
    assert.equal(request?.headers['x-client-current-telemetry'], '4|84,3|')
    assert.equal(request?.status, 200)

    const after = await readCache(home)
    const ats = Object.values(after.AccessToken)
    assert.equal(ats.length, 1, 'the new access token replaced the old one')
    assert.equal(ats[0]?.secret, out['access_token'])
    const now = Date.now() / 1000
    assert.ok(Math.abs(Number(ats[0]?.expires_on) - now - 3600) < 60)
    assert.deepEqual(Object.keys(after.RefreshToken), [rtKey], 'same refresh token entry')
    const newRt = after.RefreshToken[rtKey]
    assert.ok(newRt?.secret?.startsWith('rt.'))
    assert.notEqual(newRt?.secret, oldRt.secret, 'the rotated refresh token is kept')
    assert.ok(Number(newRt?.last_modification_time) >= Number(oldRt.last_modification_time))
    assert.equal(newRt?.target, oldRt.target)
    assert.equal(Object.keys(after.Account).length, 1)

    sts.clearLog()
    const again = await token(home, ['--scope', userRead])
    assert.equal(again.stdout, `${String(out['access_token'])}\n`)
    assert.deepEqual(sts.log, [])
  })

  test('a token issued with less than five minutes to live is refreshed on the next run', async () => {
    const home = await tempDir()
    sts.settings.accessTokenLifetime = 299
    try {
      await login(home)
      sts.clearLog()
      const result = await token(home, ['--scope', userRead])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.deepEqual(
        sts.tokenRequests().map((r) => r.form?.['grant_type']),
        ['refresh_token'],
      )
    } finally {
      sts.settings.accessTokenLifetime = 3600
    }
  })

  test('--min-validity: a token that does not last long enough is refreshed', async () => {
    const home = await tempDir()
    await login(home)
    sts.clearLog()
    const enough = await token(home, ['--scope', userRead, '--min-validity', '1800'])
    assert.equal(enough.exitCode, 0, enough.stderr)
    assert.deepEqual(sts.log, [], '3600 s left satisfies 1800 s')

    const longer = await token(home, ['--scope', userRead, '--min-validity', '4000'])
    assert.equal(longer.exitCode, 0, longer.stderr)
    assert.deepEqual(
      sts.tokenRequests().map((r) => r.form?.['grant_type']),
      ['refresh_token'],
    )
    assert.notEqual(longer.stdout, enough.stdout)

    const bad = await token(home, ['--scope', userRead, '--min-validity', 'soon'])
    assert.equal(bad.exitCode, 2)
    assert.match(bad.stderr, /^msal-ts: invalid_option: --min-validity/)
  })

  test('--force-refresh asks the identity provider even with a valid token', async () => {
    const home = await tempDir()
    await login(home)
    const cached = await token(home, ['--scope', userRead])
    sts.clearLog()
    const forced = await token(home, ['--scope', userRead, '--force-refresh', '-o', 'json'])
    assert.equal(forced.exitCode, 0, forced.stderr)
    const out = JSON.parse(forced.stdout) as Record<string, unknown>
    assert.equal(out['token_source'], 'identity_provider')
    assert.notEqual(`${String(out['access_token'])}\n`, cached.stdout)
    const requests = sts.tokenRequests()
    assert.equal(requests.length, 1)
    assert.equal(requests[0]?.form?.['grant_type'], 'refresh_token')
    assert.equal(requests[0]?.headers['x-client-current-telemetry'], '4|84,1|')

    // A claims challenge skips the cache too, and goes in the refresh as `claims`.
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    sts.clearLog()
    const challenged = await token(home, ['--scope', userRead, '--claims-challenge', claims])
    assert.equal(challenged.exitCode, 0, challenged.stderr)
    assert.deepEqual(
      sts.tokenRequests().map((r) => [r.form?.['grant_type'], r.form?.['claims']]),
      [['refresh_token', claims]],
    )
    const notJson = await token(home, ['--scope', userRead, '--claims-challenge', '{oops'])
    assert.equal(notJson.exitCode, 2)
  })

  test('processes that need the same expired token at once make one refresh between them', async () => {
    const home = await tempDir()
    await login(home)
    await ageAccessTokens(home, 30)
    sts.clearLog()
    const results = await Promise.all(
      Array.from({ length: 4 }, () => token(home, ['--scope', userRead])),
    )
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr)
    }
    assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'all print the same token')
    assert.equal(sts.tokenRequests().length, 1)
  })

  test('an account with neither a usable access token nor a refresh token: exit 3', async () => {
    const home = await tempDir()
    await login(home)
    const doc = await readCache(home)
    doc.RefreshToken = {}
    for (const at of Object.values(doc.AccessToken)) {
      at.expires_on = String(Math.floor(Date.now() / 1000) + 5)
    }
    await writeFile(await cacheFile(home), JSON.stringify(doc, null, 4))
    sts.clearLog()
    const result = await token(home, ['--scope', userRead])
    assert.equal(result.exitCode, 3)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts: no_token: .*alice@contoso\.onmicrosoft\.com.*msal-ts login\n$/,
    )
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('a refresh token the provider rejects: exit 3, a hint to sign in, nothing on stdout', async () => {
    const home = await tempDir()
    await login(home)
    await ageAccessTokens(home, 60)
    const rtBefore = (await readCache(home)).RefreshToken
    assert.ok(sts.revokeRefreshTokens(sts.defaults.username) >= 1)
    sts.clearLog()
    const result = await token(home, ['--scope', userRead])
    assert.equal(result.exitCode, 3, result.stderr)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const lines = result.stderr.trimEnd().split('\n')
    assert.match(lines[0] ?? '', /^msal-ts: invalid_grant: AADSTS700082: .*msal-ts login/)
    // The provider's codes and trace ids go on a second line, as cli.md has it.
    assert.ok(lines.length <= 2, result.stderr)
    if (lines[1] !== undefined) {
      assert.match(lines[1], /error_codes 700082/)
    }
    assert.equal(sts.tokenRequests().length, 1)
    assert.deepEqual((await readCache(home)).RefreshToken, rtBefore, 'invalid_grant keeps the RT')
  })

  test('no account at all: exit 3 with no request', async () => {
    const home = await tempDir()
    sts.clearLog()
    const result = await token(home, ['--scope', userRead])
    assert.equal(result.exitCode, 3)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^msal-ts: no_account: .*msal-ts login\n$/)
    assert.deepEqual(sts.log, [])
  })

  test('several accounts: exit 2 listing them without a terminal; --account and MSAL_TS_ACCOUNT choose', async () => {
    const home = await tempDir()
    await login(home)
    await login(home, bob)
    const doc = await readCache(home)
    const aliceHome = homeIdOf(doc, sts.defaults.username)
    assert.equal(homeIdOf(doc, bob.username), `${bobUid}.${sts.tenantId}`)
    sts.clearLog()

    const ambiguous = await token(home, ['--scope', userRead])
    assert.equal(ambiguous.exitCode, 2)
    assert.equal(ambiguous.stdout, '')
    assert.match(ambiguous.stderr, /^msal-ts: several_accounts: /)
    assert.ok(ambiguous.stderr.includes(sts.defaults.username), ambiguous.stderr)
    assert.ok(ambiguous.stderr.includes(bob.username), ambiguous.stderr)
    assert.equal(ambiguous.stderr.split('\n').length, 2, 'one line')

    const byName = await token(home, ['--scope', userRead, '--account', bob.username.toUpperCase()])
    assert.equal(byName.exitCode, 0, byName.stderr)
    assert.equal(claimsOf(byName.stdout.trim())['preferred_username'], bob.username)

    const byHomeId = await token(home, ['--scope', userRead, '--account', aliceHome])
    assert.equal(byHomeId.exitCode, 0, byHomeId.stderr)
    assert.equal(claimsOf(byHomeId.stdout.trim())['preferred_username'], sts.defaults.username)

    const byEnv = await token(home, ['--scope', userRead], { MSAL_TS_ACCOUNT: bob.username })
    assert.equal(byEnv.stdout, byName.stdout)
    const optionBeatsEnv = await token(home, ['--scope', userRead, '--account', aliceHome], {
      MSAL_TS_ACCOUNT: bob.username,
    })
    assert.equal(optionBeatsEnv.stdout, byHomeId.stdout)
    assert.deepEqual(sts.log, [], 'all of these were cache hits')

    const unknown = await token(home, ['--scope', userRead, '--account', 'carol@contoso.com'])
    assert.equal(unknown.exitCode, 3)
    assert.match(unknown.stderr, /^msal-ts: no_account: carol@contoso\.com is not signed in/)
  })

  test('-o json: the token, its times, scopes, source and account; never the refresh token', async () => {
    const home = await tempDir()
    await login(home)
    const accounts = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    const [account] = JSON.parse(accounts.stdout) as unknown[]
    const result = await token(home, ['--scope', userRead, '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const out = JSON.parse(result.stdout) as Record<string, unknown>
    const doc = await readCache(home)
    const [at] = Object.values(doc.AccessToken)
    assert.equal(out['token_type'], 'Bearer')
    assert.equal(out['access_token'], at?.secret)
    assert.equal(out['expires_on'], Number(at?.expires_on))
    const expiresIn = out['expires_in']
    assert.ok(typeof expiresIn === 'number' && expiresIn > 3500 && expiresIn <= 3600)
    assert.ok(Math.abs(Number(out['expires_on']) - Date.now() / 1000 - expiresIn) < 5)
    assert.deepEqual(out['scope'], ['User.Read', 'offline_access', 'openid', 'profile'])
    assert.equal(out['token_source'], 'cache')
    assert.deepEqual(out['account'], account)
    assert.equal(out['refresh_token'], undefined)
    for (const rt of Object.values(doc.RefreshToken)) {
      assert.ok(!result.stdout.includes(String(rt.secret)), 'no refresh token on stdout')
    }
    for (const idt of Object.values(doc.IdToken)) {
      assert.ok(!result.stdout.includes(String(idt.secret)), 'no raw ID token on stdout')
    }

    const header = await token(home, ['--scope', userRead, '-o', 'header'])
    assert.equal(header.exitCode, 0, header.stderr)
    assert.equal(header.stdout, `Authorization: Bearer ${at?.secret}\n`)
  })

  test('a Graph scope asked with its resource prefix is a cache hit when the provider echoed it bare', async () => {
    const home = await tempDir()
    const prefixed = 'https://graph.microsoft.com/User.Read'
    sts.settings.echoScopesWithoutResource = true
    try {
      await login(home, undefined, [prefixed])
    } finally {
      sts.settings.echoScopesWithoutResource = false
    }
    const [at] = Object.values((await readCache(home)).AccessToken)
    assert.equal(at?.target, 'User.Read offline_access openid profile')
    sts.clearLog()
    const result = await token(home, ['--scope', prefixed, '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    const out = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(out['token_source'], 'cache')
    assert.equal(out['access_token'], at?.secret)
    assert.deepEqual(sts.log, [])
  })

  test('the cache file stays private after a refresh', async () => {
    const home = await tempDir()
    await login(home)
    await ageAccessTokens(home, 10)
    const result = await token(home, ['--scope', userRead])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal((await stat(await cacheFile(home))).mode & 0o777, 0o600)
  })
})
