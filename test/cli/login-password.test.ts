import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'
import { entryCounts, readTokenCache, stsArgs } from './login-process.js'

const userRead = 'https://graph.microsoft.com/User.Read'
const noTokens = { Account: 0, AccessToken: 0, RefreshToken: 0, IdToken: 0 }
const federatedUser = 'fed.user@contoso.onmicrosoft.com'

describe('msal-ts login --username (password grant)', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
    sts.addUser({ username: federatedUser, password: 'federated password', federated: true })
  })
  after(() => sts.close())
  beforeEach(() => sts.clearLog())

  const args = (username: string, ...extra: string[]) => [
    'login',
    '--scope',
    userRead,
    ...stsArgs(sts),
    '--username',
    username,
    ...extra,
  ]

  /** The one password grant the STS received, checked as Entra would see it. */
  function assertPasswordGrant(username: string, password: string) {
    const requests = sts.tokenRequests()
    assert.equal(requests.length, 1)
    const [request] = requests
    assert.equal(request?.form?.['grant_type'], 'password')
    assert.equal(request?.form?.['username'], username)
    assert.equal(request?.form?.['password'], password)
    assert.equal(request?.form?.['client_id'], sts.defaults.publicClientId)
    assert.equal(request?.form?.['client_info'], '1')
    assert.deepEqual(
      (request?.form?.['scope'] ?? '').split(' ').sort(),
      [userRead, 'offline_access', 'openid', 'profile'].sort(),
    )
    assert.equal(request?.headers['x-anchormailbox'], `upn:${username}`)
    return request
  }

  test('the password from stdin: signed in, the grant as Entra expects it, tokens cached', async () => {
    const home = await tempDir()
    const result = await run(home, args(sts.defaults.username, '--password-stdin'), {
      input: `${sts.defaults.password}\n`,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, `Signed in as ${sts.defaults.username}\n`)
    assertPasswordGrant(sts.defaults.username, sts.defaults.password)
    assert.equal(sts.requests({ path: '/userrealm/' }).length, 1, 'user realm discovery came first')
    assert.deepEqual(entryCounts(await readTokenCache(home)), {
      Account: 1,
      AccessToken: 1,
      RefreshToken: 1,
      IdToken: 1,
    })
  })

  test('the password from MSAL_TS_PASSWORD', async () => {
    const home = await tempDir()
    const result = await run(home, args(sts.defaults.username), {
      env: { MSAL_TS_PASSWORD: sts.defaults.password },
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, `Signed in as ${sts.defaults.username}\n`)
    assertPasswordGrant(sts.defaults.username, sts.defaults.password)
    assert.equal(entryCounts(await readTokenCache(home)).AccessToken, 1)
  })

  test('a wrong password is exit 1: invalid_grant on one line, its codes on the next, nothing cached', async () => {
    const home = await tempDir()
    const result = await run(home, args(sts.defaults.username, '--password-stdin'), {
      input: 'not the password',
    })
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    const [first, second, end] = result.stderr.split('\n')
    assert.match(
      first ?? '',
      /^msal-ts: invalid_grant: AADSTS50126: Error validating credentials due to invalid username or password\.$/,
    )
    assert.match(
      second ?? '',
      /^ {2}status 400; error_codes 50126; trace_id [0-9a-f-]{36}; correlation_id [0-9a-f-]{36}$/,
    )
    assert.equal(end, '')
    assert.ok(!result.stderr.includes('not the password'))
    assertPasswordGrant(sts.defaults.username, 'not the password')
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('a federated user is exit 3, told to use the browser or a device code; no token request', async () => {
    const home = await tempDir()
    const result = await run(home, args(federatedUser, '--password-stdin'), {
      input: 'federated password',
    })
    assert.equal(result.exitCode, 3)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    assert.match(
      result.stderr,
      /^msal-ts: federated_account: .*use msal-ts login \(browser\) or --device-code\n$/,
    )
    assert.equal(sts.requests({ path: '/userrealm/' }).length, 1)
    assert.deepEqual(sts.tokenRequests(), [])
    assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
  })

  test('no password and no terminal to ask on is exit 2, before any request', async () => {
    const home = await tempDir()
    const none = await run(home, args(sts.defaults.username))
    assert.equal(none.exitCode, 2)
    assert.equal(none.stdout, '')
    assert.equal(
      none.stderr,
      'msal-ts: missing_password: no password: pass --password-stdin or set MSAL_TS_PASSWORD\n',
    )
    const empty = await run(home, args(sts.defaults.username, '--password-stdin'), { input: '' })
    assert.equal(empty.exitCode, 2)
    assert.match(empty.stderr, /^msal-ts: missing_password: /)
    assert.deepEqual(sts.log, [])
  })
})
