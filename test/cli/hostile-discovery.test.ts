/**
 * A hostile or broken identity provider (issue #15): a discovery document naming another issuer,
 * a `javascript:` sign-in URL, device code answers that would make msal-ts poll in a storm. Each
 * is one clean line and exit 1, nothing sent afterwards, the token cache untouched.
 */
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { Agent, fetch } from 'undici'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'
import { readTokenCache, stsArgs, tokenCacheFile } from './login-process.js'

const userRead = 'https://graph.microsoft.com/User.Read'
const discoveryPath = '/v2.0/.well-known/openid-configuration'

/** The only line on stderr, which must be an error of this code. */
function assertOneErrorLine(stderr: string, code: string): string {
  assertNoStack(stderr)
  const lines = stderr.split('\n')
  assert.equal(lines.length, 2, `one line: ${stderr}`)
  assert.equal(lines[1], '')
  assert.match(lines[0] ?? '', new RegExp(`^msal-ts: ${code}: `))
  return lines[0] ?? ''
}

describe('hostile discovery and device code answers', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())
  beforeEach(() => {
    sts.clearFaults()
    sts.clearLog()
    sts.settings.deviceCodeInterval = 1
    sts.settings.deviceCodeExpiresIn = 900
    sts.settings.devicePollScript = ['success']
  })

  /** `--oidc-authority <sts>/<tenant>/v2.0`: the STS's issuer is exactly that URL. */
  const oidcArgs = () => [
    '-c',
    sts.defaults.publicClientId,
    '--oidc-authority',
    `${sts.authority()}/v2.0`,
    '--ca-file',
    sts.caFile,
  ]

  /** The STS's own discovery document with some members changed. */
  async function hostileDocument(changes: Record<string, unknown>): Promise<object> {
    const response = await fetch(`${sts.authority()}${discoveryPath}`, {
      dispatcher: new Agent({ connect: { ca: sts.caPem } }),
    })
    return { ...((await response.json()) as object), ...changes }
  }

  test('--oidc-authority: a discovery document naming a foreign issuer is refused before the refresh token is sent', async () => {
    const home = await tempDir()
    const login = await run(
      home,
      [
        'login',
        '--scope',
        userRead,
        ...oidcArgs(),
        '--username',
        sts.defaults.username,
        '--password-stdin',
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const cacheFile = await tokenCacheFile(home)
    assert.ok(cacheFile)
    const before = await readFile(cacheFile)
    // A cold HTTP cache, so the next run asks for the discovery document again.
    await rm(join(home, 'cache', 'msal-ts.http-cache.json'), { force: true })

    const foreign = 'https://login.evil.example/common/v2.0'
    sts.inject({
      match: { path: discoveryPath },
      body: await hostileDocument({ issuer: foreign }),
      times: Infinity,
    })
    sts.clearLog()
    const result = await run(home, ['token', '--scope', userRead, '--force-refresh', ...oidcArgs()])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(result.stdout, '')
    const line = assertOneErrorLine(result.stderr, 'invalid_issuer')
    assert.ok(line.includes(`"${foreign}"`), line)
    assert.ok(line.includes(`"${sts.authority()}/v2.0"`), line)
    assert.deepEqual(sts.tokenRequests(), [], 'no token request, so no refresh token sent')
    assert.deepEqual(await readFile(cacheFile), before, 'the token cache is byte-identical')

    // The refused document was not kept: once the provider is fixed, the next run works.
    sts.clearFaults()
    const fixed = await run(home, ['token', '--scope', userRead, '--force-refresh', ...oidcArgs()])
    assert.equal(fixed.exitCode, 0, fixed.stderr)
  })

  test('--oidc-authority: the same issuer with a trailing slash is fine', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: discoveryPath },
      body: await hostileDocument({ issuer: `${sts.authority()}/v2.0/` }),
      times: Infinity,
    })
    const result = await run(
      home,
      [
        'login',
        '--scope',
        userRead,
        ...oidcArgs(),
        '--username',
        sts.defaults.username,
        '--password-stdin',
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  })

  for (const [command, extra] of [
    ['login', ['--no-browser']],
    ['auth-url', []],
  ] as const) {
    test(`${command}: a javascript: authorization endpoint is never shown; exit 1 at once`, async () => {
      const home = await tempDir()
      sts.inject({
        match: { path: discoveryPath },
        body: await hostileDocument({
          authorization_endpoint: 'javascript:alert(document.cookie)',
        }),
        times: Infinity,
      })
      const result = await run(home, [command, '--scope', userRead, ...stsArgs(sts), ...extra])
      assert.equal(result.exitCode, 1, result.stderr)
      assert.equal(result.stdout, '')
      const line = assertOneErrorLine(result.stderr, 'invalid_response')
      assert.match(line, /authorization_endpoint is not an https URL \(scheme "javascript:"/)
      assert.deepEqual(sts.tokenRequests(), [])
      assert.equal(await readTokenCache(home), undefined)
    })
  }

  test('a token endpoint over plain http on another host is refused before any credential goes there', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: discoveryPath },
      body: await hostileDocument({ token_endpoint: 'http://evil.example/token' }),
      times: Infinity,
    })
    const result = await run(
      home,
      [
        'login',
        '--scope',
        userRead,
        ...stsArgs(sts),
        '--username',
        sts.defaults.username,
        '--password-stdin',
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(
      assertOneErrorLine(result.stderr, 'invalid_response'),
      /token_endpoint is not an https URL \("http:\/\/evil\.example"/,
    )
    assert.deepEqual(sts.tokenRequests(), [])
    assert.equal(await readTokenCache(home), undefined)
  })

  test('device code: a javascript: verification_uri is refused, nothing polled', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: '/oauth2/v2.0/devicecode' },
      body: {
        device_code: 'dc',
        user_code: 'ABC',
        verification_uri: 'javascript:alert(1)',
        expires_in: 900,
        interval: 1,
        message: 'open javascript:alert(1)',
      },
    })
    const result = await run(home, ['login', '--device-code', '--scope', userRead, ...stsArgs(sts)])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(
      assertOneErrorLine(result.stderr, 'invalid_response'),
      /verification_uri is not an https URL \(scheme "javascript:"/,
    )
    assert.deepEqual(sts.tokenRequests(), [])
  })

  /** A device-code sign-in left pending until its code expires: the gaps between its polls (STS clock). */
  async function pendingDeviceLogin(interval: unknown, lifetime: number) {
    const home = await tempDir()
    sts.settings.deviceCodeInterval = interval as number | string | undefined
    sts.settings.deviceCodeExpiresIn = lifetime
    sts.settings.devicePollScript = ['authorization_pending']
    const result = await run(home, ['login', '--device-code', '--scope', userRead, ...stsArgs(sts)])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(result.stderr, /^msal-ts: expired_token: /m)
    assert.equal(await readTokenCache(home), undefined)
    const times = sts.tokenRequests().map((poll) => poll.time)
    return times.slice(1).map((time, i) => time - (times[i] ?? 0))
  }

  for (const interval of [0.01, -1]) {
    test(`device code interval ${interval}: never more than one poll a second`, async () => {
      const gaps = await pendingDeviceLogin(interval, 3)
      assert.ok(gaps.length >= 1, 'polled more than once in 3 s')
      assert.ok(
        gaps.every((gap) => gap >= 1000),
        `gaps ${gaps.join(', ')} ms`,
      )
    })
  }

  for (const interval of [undefined, 'junk']) {
    test(`device code interval ${JSON.stringify(interval)}: polls every 5 s`, async () => {
      // At once, 5 s later, and once more as the code expires.
      const gaps = await pendingDeviceLogin(interval, 7)
      assert.equal(gaps.length, 2, `gaps ${gaps.join(', ')} ms`)
      assert.ok((gaps[0] ?? 0) >= 4500, `first gap ${gaps[0]} ms`)
      assert.ok((gaps[1] ?? 0) >= 1000, `last gap ${gaps[1]} ms`)
    })
  }

  test('device code expires_in of -5 is refused before any poll', async () => {
    const home = await tempDir()
    sts.settings.deviceCodeExpiresIn = -5
    const result = await run(home, ['login', '--device-code', '--scope', userRead, ...stsArgs(sts)])
    assert.equal(result.exitCode, 1, result.stderr)
    assert.match(assertOneErrorLine(result.stderr, 'invalid_response'), /expires_in -5 is not/)
    assert.deepEqual(sts.tokenRequests(), [])
  })
})
