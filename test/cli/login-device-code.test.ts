import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'
import { entryCounts, readTokenCache, startLogin, stsArgs } from './login-process.js'

const userRead = 'https://graph.microsoft.com/User.Read'
const deviceCodeGrant = 'urn:ietf:params:oauth:grant-type:device_code'
const noTokens = { Account: 0, AccessToken: 0, RefreshToken: 0, IdToken: 0 }
/** The STS's device authorization message, as Entra words it. */
const message =
  /^To sign in, use a web browser to open the page https:\/\/127\.0\.0\.1:\d+\/devicelogin and enter the code [A-Z0-9]{9} to authenticate\.$/

describe('msal-ts login --device-code', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())
  beforeEach(() => {
    sts.settings.deviceCodeInterval = 1
    sts.settings.deviceCodeExpiresIn = 900
    sts.settings.devicePollScript = ['success']
    sts.clearLog()
  })

  const args = (...extra: string[]) => [
    'login',
    '--device-code',
    '--scope',
    userRead,
    ...stsArgs(sts),
    ...extra,
  ]

  test('pending, slow_down, success: the message on stderr, polls spaced by the interval (+5 s after slow_down)', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending', 'slow_down', 'success']
    const result = await run(home, args())
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    const [first, second, end] = result.stderr.split('\n')
    assert.match(first ?? '', message)
    assert.equal(second, `Signed in as ${sts.defaults.username}`)
    assert.equal(end, '')

    const [authorization] = sts.requests({ path: '/oauth2/v2.0/devicecode' })
    assert.equal(authorization?.form?.['client_id'], sts.defaults.publicClientId)
    assert.deepEqual(
      (authorization?.form?.['scope'] ?? '').split(' ').sort(),
      [userRead, 'offline_access', 'openid', 'profile'].sort(),
    )

    const polls = sts.tokenRequests()
    assert.deepEqual(
      polls.map((poll) => poll.status),
      [400, 400, 200],
    )
    for (const poll of polls) {
      assert.equal(poll.form?.['grant_type'], deviceCodeGrant)
      assert.equal(poll.form?.['client_info'], '1')
      assert.ok(poll.form?.['device_code'])
      assert.equal(poll.form['device_code'], polls[0]?.form?.['device_code'])
    }
    const [t1, t2, t3] = polls.map((poll) => poll.time)
    assert.ok(
      (t2 ?? 0) - (t1 ?? 0) >= 1000,
      `second poll ${(t2 ?? 0) - (t1 ?? 0)} ms after the first`,
    )
    assert.ok(
      (t3 ?? 0) - (t2 ?? 0) >= 6000,
      `third poll ${(t3 ?? 0) - (t2 ?? 0)} ms after the second (slow_down adds 5 s)`,
    )
    assert.deepEqual(entryCounts(await readTokenCache(home)), {
      Account: 1,
      AccessToken: 1,
      RefreshToken: 1,
      IdToken: 1,
    })
  })

  test('-o json prints the token with its account on stdout; messages stay on stderr', async () => {
    const home = await tempDir()
    const result = await run(home, args('-o', 'json'))
    assert.equal(result.exitCode, 0, result.stderr)
    const lines = result.stderr.split('\n')
    assert.match(lines[0] ?? '', message)
    assert.deepEqual(lines.slice(1), [`Signed in as ${sts.defaults.username}`, ''])
    const doc = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(doc['token_type'], 'Bearer')
    assert.equal(doc['token_source'], 'identity_provider')
    assert.match(String(doc['access_token']), /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.ok(Array.isArray(doc['scope']) && doc['scope'].includes(userRead))
    assert.ok(typeof doc['expires_on'] === 'number')
    assert.equal(doc['refresh_token'], undefined)
    const account = doc['account'] as Record<string, unknown> | undefined
    assert.equal(account?.['username'], sts.defaults.username)
    assert.match(String(account?.['home_account_id']), /^[0-9a-f-]{36}\.[0-9a-f-]{36}$/)
    assert.equal(account?.['realm'], sts.tenantId)
    const cache = await readTokenCache(home)
    assert.equal(
      Object.values(cache?.AccessToken ?? {})[0]?.['secret'],
      doc['access_token'],
      'the printed token is the cached one',
    )
  })

  test('a device code that expires before anyone signs in: exit 1, one clear line, nothing cached', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending']
    sts.settings.deviceCodeExpiresIn = 2
    const result = await run(home, args())
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const [first, error] = result.stderr.split('\n')
    assert.match(first ?? '', message)
    assert.match(error ?? '', /^msal-ts: expired_token: .*expired/i)
    assert.doesNotMatch(result.stderr, /Signed in as/)
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('--wait 2 while the sign-in stays pending: exit 1 with a timeout message', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending']
    const result = await run(home, args('--wait', '2'))
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const lines = result.stderr.split('\n')
    assert.match(lines[0] ?? '', message)
    assert.deepEqual(lines.slice(1), [
      'msal-ts: timeout: the sign-in was not completed within 2 s',
      '',
    ])
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  /** The token endpoint's polls, as milliseconds after the first one (the STS's own clock). */
  const pollOffsets = () => {
    const times = sts.tokenRequests().map((poll) => poll.time ?? 0)
    return times.map((time) => time - (times[0] ?? 0))
  }

  const waitedOut = async (wait: number) => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending']
    const result = await run(home, args('--wait', String(wait)))
    assert.equal(result.exitCode, 1)
    assertNoStack(result.stderr)
    assert.deepEqual(result.stderr.split('\n').slice(1), [
      `msal-ts: timeout: the sign-in was not completed within ${wait} s`,
      '',
    ])
    return pollOffsets()
  }

  test('--wait is the whole window: the last wait is cut short to poll once more at its end', async () => {
    sts.settings.deviceCodeInterval = 3
    const offsets = await waitedOut(5)
    // At once, after 3 s, then at 5 s rather than giving up at 3 s (a last wait under the 1 s
    // minimum would be skipped: polls never come closer than that).
    assert.equal(offsets.length, 3, `polls at ${offsets.join(', ')} ms`)
    assert.ok((offsets[2] ?? 0) >= 4000, `last poll ${offsets[2]} ms after the first`)
    assert.ok((offsets[2] ?? 0) - (offsets[1] ?? 0) < 3000, 'the last wait was cut short')
  })

  test('a huge interval is held to a minute, so the sign-in is still polled at the end of --wait', async () => {
    sts.settings.deviceCodeInterval = 1e9
    const offsets = await waitedOut(3)
    assert.equal(offsets.length, 2, `polls at ${offsets.join(', ')} ms`)
    assert.ok((offsets[1] ?? 0) >= 2000, `last poll ${offsets[1]} ms after the first`)
  })

  for (const interval of ['abc', -1, null, undefined]) {
    test(`interval ${JSON.stringify(interval)} means 5 s: polled again at the end of --wait`, async () => {
      sts.settings.deviceCodeInterval = interval as number | string | undefined
      const offsets = await waitedOut(2)
      assert.equal(offsets.length, 2, `polls at ${offsets.join(', ')} ms`)
      assert.ok((offsets[1] ?? 0) >= 1000, `last poll ${offsets[1]} ms after the first`)
    })
  }

  test('a device code living less than --wait: its expiry ends the polling, and the error says so', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending']
    sts.settings.deviceCodeInterval = 2
    sts.settings.deviceCodeExpiresIn = 3
    const result = await run(home, args('--wait', '60'))
    assert.equal(result.exitCode, 1)
    assertNoStack(result.stderr)
    assert.match(result.stderr.split('\n')[1] ?? '', /^msal-ts: expired_token: .*expired/i)
    assert.doesNotMatch(result.stderr, /within 60 s/)
    const offsets = pollOffsets()
    assert.ok(offsets.length >= 2 && offsets.length <= 3, `polls at ${offsets.join(', ')} ms`)
  })

  test('a declined sign-in is exit 1: the error line, then its codes', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_declined']
    const result = await run(home, args())
    assert.equal(result.exitCode, 1)
    const lines = result.stderr.split('\n')
    assert.match(lines[1] ?? '', /^msal-ts: authorization_declined: AADSTS65004: /)
    assert.match(
      lines[2] ?? '',
      /^ {2}status 400; error_codes 65004; trace_id [0-9a-f-]{36}; correlation_id [0-9a-f-]{36}$/,
    )
    assert.equal(lines[3], '')
  })

  test('Ctrl-C while polling exits 130 and caches nothing', async () => {
    const home = await tempDir()
    sts.settings.devicePollScript = ['authorization_pending']
    const login = startLogin(home, args())
    await login.line(message)
    login.kill('SIGINT')
    const result = await login.done
    assert.equal(result.exitCode, 130)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    assert.match(result.stderr, /\nmsal-ts: cancelled: interrupted\n$/)
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })
})
