/**
 * msal-ts against a certified OpenID provider (panva's oidc-provider) that is not Entra-shaped in
 * any way: an issuer with a path, no client_info, `sub` as the only account key, its own sign-in,
 * consent and device pages, RFC 8707 resource indicators, rotated refresh tokens. Everything
 * through the built binary with `--oidc-authority <issuer>` and no `-a`.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { makeClientCertificate } from '../fixtures/pki.js'
import { completeProviderPages, heading } from '../fixtures/oidc/pages.js'
import {
  demoResource,
  deviceCodeGrant,
  startOidcProvider,
  type OidcProvider,
} from '../fixtures/oidc/provider.js'
import { launchBrowser, type TestBrowser } from './chromium.js'
import { assertNoStack, withoutCaFile, run, tempDir } from './harness.js'
import {
  afterAdvice,
  entryCounts,
  readTokenCache,
  startLogin,
  type TokenCacheFile,
} from './login-process.js'

const demoDefault = `${demoResource}/.default`
const demoRead = `${demoResource}/read`
const noTokens = { Account: 0, AccessToken: 0, RefreshToken: 0, IdToken: 0 }
const oneOfEach = { Account: 1, AccessToken: 1, RefreshToken: 1, IdToken: 1 }
const signatureRefused =
  /^msal-ts: invalid_id_token: the ID token signature does not verify against the provider's keys/m

/** The parts of a JWT, unchecked. */
function jwtParts(jwt: string): {
  header: Record<string, unknown>
  claims: Record<string, unknown>
} {
  const [header = '', payload = ''] = jwt.split('.')
  const decode = (part: string) =>
    JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
  return { header: decode(header), claims: decode(payload) }
}

function onlyValue<T>(section: Record<string, T> | undefined): T {
  const values = Object.values(section ?? {})
  assert.equal(values.length, 1, `one entry: ${JSON.stringify(section)}`)
  return values[0] as T
}

describe('msal-ts --oidc-authority against oidc-provider', () => {
  let op: OidcProvider

  before(async () => {
    op = await startOidcProvider()
  })
  after(async () => {
    assert.deepEqual(op.serverErrors, [], 'the provider had no server error')
    await op.close()
  })

  const authority = (provider = op) => ['--oidc-authority', provider.issuer]

  describe('client-token (client credentials)', () => {
    test('client_secret_post: the secret in the form, a JWT for the API, then a cache hit with no request', async () => {
      const home = await tempDir()
      const { clientId, secret } = op.clients.secretPost
      const args = ['client-token', ...authority(), '-c', clientId, '--scope', demoDefault]
      op.clearLog()
      const first = await run(home, [...args, '-o', 'json'], {
        env: { MSAL_TS_CLIENT_SECRET: secret },
      })
      assert.equal(first.exitCode, 0, first.stderr)
      assert.equal(first.stderr, '')
      const out = JSON.parse(first.stdout) as Record<string, unknown>
      assert.equal(out['token_type'], 'Bearer')
      assert.equal(out['token_source'], 'identity_provider')
      assert.deepEqual(out['scope'], [demoDefault])
      const { header, claims } = jwtParts(String(out['access_token']))
      assert.equal(header['typ'], 'at+jwt')
      assert.equal(claims['aud'], demoResource)
      assert.equal(claims['client_id'], clientId)
      assert.equal(claims['iss'], op.issuer)
      assert.equal(claims['scope'], demoDefault)

      // Discovery at <issuer>/.well-known/openid-configuration, then one token request.
      assert.deepEqual(
        op.log.map((r) => `${r.method} ${r.path} ${String(r.status)}`),
        [`GET /oidc/.well-known/openid-configuration 200`, `POST /oidc/token 200`],
      )
      const [request] = op.tokenRequests()
      assert.equal(request?.form?.['grant_type'], 'client_credentials')
      assert.equal(request?.form?.['client_id'], clientId)
      assert.equal(request?.form?.['client_secret'], secret)
      assert.equal(request?.form?.['scope'], demoDefault)
      assert.equal(request?.headers['authorization'], undefined)

      // The same token through --resource: a cache hit.
      op.clearLog()
      const again = await run(
        home,
        ['client-token', ...authority(), '-c', clientId, '--resource', demoResource],
        { env: { MSAL_TS_CLIENT_SECRET: secret } },
      )
      assert.equal(again.exitCode, 0, again.stderr)
      assert.equal(again.stdout, `${String(out['access_token'])}\n`)
      assert.deepEqual(op.log, [], 'a cache hit: no request, not even discovery')
    })

    test('client_secret_basic when the provider does not list client_secret_post: Authorization: Basic, no secret in the body', async () => {
      const basicOnly = await startOidcProvider({
        clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
      })
      try {
        const discovery = (await (await fetch(basicOnly.endpoints.discovery)).json()) as Record<
          string,
          unknown
        >
        assert.deepEqual(discovery['token_endpoint_auth_methods_supported'], [
          'client_secret_basic',
          'private_key_jwt',
          'none',
        ])
        const home = await tempDir()
        const { clientId, secret } = basicOnly.clients.secretBasic
        basicOnly.clearLog()
        const result = await run(
          home,
          ['client-token', ...authority(basicOnly), '-c', clientId, '--resource', demoResource],
          { env: { MSAL_TS_CLIENT_SECRET: secret } },
        )
        const [request, ...more] = basicOnly.tokenRequests()
        assert.equal(more.length, 0)
        assert.ok(request)
        // RFC 6749 2.3.1: id and secret form-encoded, then base64 (the secret has ' ', ':', '+', '/', '%').
        assert.match(
          request.headers['authorization'] ?? '',
          /^Basic [A-Za-z0-9+/]+=*$/,
          `the provider got ${JSON.stringify(request.headers['authorization'])}`,
        )
        assert.deepEqual(request.basic, { clientId, secret })
        assert.equal(request.form?.['client_secret'], undefined, 'no secret in the body')
        assert.equal(request.form?.['grant_type'], 'client_credentials')
        assert.equal(request.form?.['scope'], demoDefault)
        assert.equal(request.status, 200, request.responseBody)
        assert.equal(result.exitCode, 0, result.stderr)
        assert.equal(jwtParts(result.stdout.trim()).claims['client_id'], clientId)
        assert.deepEqual(basicOnly.serverErrors, [])
      } finally {
        await basicOnly.close()
      }
    })

    test('private_key_jwt with --certificate: an RS256 assertion for the token endpoint, verified with the registered key', async () => {
      const home = await tempDir()
      const cert = makeClientCertificate(home, 'daemon')
      const clientId = 'msal-ts-private-key-jwt'
      await op.addPrivateKeyJwtClient(clientId, cert.certPem)
      op.clearLog()
      const result = await run(home, [
        'client-token',
        ...authority(),
        '-c',
        clientId,
        '--certificate',
        cert.pemFile,
        '--scope',
        demoDefault,
      ])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stderr, '')
      assert.equal(jwtParts(result.stdout.trim()).claims['client_id'], clientId)

      const [request] = op.tokenRequests()
      assert.equal(request?.status, 200)
      assert.equal(request?.form?.['client_secret'], undefined)
      assert.equal(request?.headers['authorization'], undefined)
      assert.equal(
        request?.form?.['client_assertion_type'],
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      )
      const assertion = jwtParts(request?.form?.['client_assertion'] ?? '')
      assert.equal(assertion.header['alg'], 'RS256')
      assert.equal(assertion.claims['aud'], op.endpoints.token)
      assert.equal(assertion.claims['iss'], clientId)
      assert.equal(assertion.claims['sub'], clientId)

      // The provider refuses the same assertion twice (jti replay), so a cache hit must not send one.
      op.clearLog()
      const again = await run(home, [
        'client-token',
        ...authority(),
        '-c',
        clientId,
        '--certificate',
        cert.pemFile,
        '--scope',
        demoDefault,
      ])
      assert.equal(again.stdout, result.stdout)
      assert.deepEqual(op.log, [])
    })

    test('a wrong secret: the provider says invalid_client, exit 1, one line', async () => {
      const home = await tempDir()
      const result = await run(
        home,
        [
          'client-token',
          ...authority(),
          '-c',
          op.clients.secretPost.clientId,
          '--scope',
          demoDefault,
        ],
        { env: { MSAL_TS_CLIENT_SECRET: 'not the secret' } },
      )
      assert.equal(result.exitCode, 1)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: invalid_client: /)
      assertNoStack(result.stderr)
    })
  })

  test('a response naming another issuer, or none where the provider promises one (RFC 9207), is refused before any redemption', async () => {
    const home = await tempDir()
    const flowFile = `${home}/flow.json`
    const started = await run(home, [
      'auth-url',
      ...authority(),
      '-c',
      op.clients.public.clientId,
      '--scope',
      demoRead,
      '--redirect-uri',
      'http://localhost:8400',
      '--flow-file',
      flowFile,
    ])
    assert.equal(started.exitCode, 0, started.stderr)
    const state = new URL(started.stdout.trim()).searchParams.get('state') ?? ''
    for (const [iss, said] of [
      [
        'https://elsewhere.example/oidc',
        /comes from the issuer "https:\/\/elsewhere\.example\/oidc"/,
      ],
      [undefined, /names no issuer/],
    ] as const) {
      op.clearLog()
      const response = new URLSearchParams({ code: 'a-code', state, ...(iss ? { iss } : {}) })
      const redeemed = await run(home, [
        'redeem',
        ...authority(),
        '-c',
        op.clients.public.clientId,
        '--flow-file',
        flowFile,
        '--response',
        `http://localhost:8400/?${response.toString()}`,
      ])
      assert.equal(redeemed.exitCode, 2, redeemed.stderr)
      assert.equal(redeemed.stdout, '')
      assert.match(redeemed.stderr, /^msal-ts: issuer_mismatch: /)
      assert.match(redeemed.stderr, said)
      assert.equal(redeemed.stderr.trim().split('\n').length, 1)
      assert.deepEqual(op.tokenRequests(), [], 'nothing was redeemed')
    }
  })

  describe('user sign-in in Chromium through the provider pages', () => {
    let browser: TestBrowser | undefined
    after(async () => {
      await browser?.close()
    })

    const publicArgs = () => [...authority(), '-c', op.clients.public.clientId]

    /** A fresh browser that records every host it talks to. */
    async function freshBrowser() {
      await browser?.close()
      browser = await launchBrowser()
      const hosts = new Set<string>()
      browser.context.on('request', (request) => hosts.add(new URL(request.url()).host))
      return { page: browser.page, hosts }
    }

    /** `login --no-browser`, then the sign-in and consent pages, as a person would. */
    async function browserLogin(home: string, extra: string[] = []) {
      const { page, hosts } = await freshBrowser()
      op.clearLog()
      const login = startLogin(home, [
        'login',
        '--no-browser',
        '--scope',
        demoRead,
        ...publicArgs(),
        ...extra,
      ])
      const url = await login.url
      const redirectUri = new URL(url.searchParams.get('redirect_uri') ?? '')
      await page.goto(url.toString())
      const pages = await completeProviderPages(page, op, { user: op.user })
      await page.waitForURL((u) => u.origin === redirectUri.origin)
      const landing = { url: new URL(page.url()), heading: await heading(page) }
      assert.deepEqual(
        [...hosts].sort(),
        [redirectUri.host, op.host].sort(),
        'the browser talked to loopback only',
      )
      return { url, redirectUri, pages, landing, result: await login.done }
    }

    test('authorization code with PKCE: the provider pages, "Signed in as", the cache keyed by sub; `token` is a cache hit; `accounts` shows the account', async () => {
      const home = await tempDir()
      const { url, redirectUri, pages, landing, result } = await browserLogin(home)
      assert.deepEqual(pages, ['login', 'consent'])
      assert.equal(landing.heading, 'Authentication completed')
      // RFC 9207: the provider names itself in the response, and msal-ts accepted that name.
      assert.equal(landing.url.searchParams.get('iss'), op.issuer)
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, '')
      assertNoStack(result.stderr)
      assert.deepEqual(afterAdvice(result.stderr).split('\n'), [
        url.toString(),
        `Signed in as ${op.user.preferred_username}`,
        '',
      ])

      // The authorize request: at the discovered endpoint, PKCE S256, a loopback redirect.
      assert.equal(`${url.origin}${url.pathname}`, op.endpoints.authorization)
      assert.equal(redirectUri.origin, `http://localhost:${redirectUri.port}`)
      assert.equal(url.searchParams.get('client_id'), op.clients.public.clientId)
      assert.equal(url.searchParams.get('response_type'), 'code')
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
      assert.deepEqual(
        (url.searchParams.get('scope') ?? '').split(' ').sort(),
        [demoRead, 'offline_access', 'openid', 'profile'].sort(),
      )

      // One redemption, with the verifier of the challenge; the provider's answer checked.
      const [redemption, ...more] = op.tokenRequests()
      assert.equal(more.length, 0)
      assert.equal(redemption?.status, 200, redemption?.responseBody)
      assert.equal(redemption?.form?.['grant_type'], 'authorization_code')
      assert.equal(redemption?.form?.['redirect_uri'], redirectUri.origin)
      assert.equal(
        createHash('sha256')
          .update(redemption?.form?.['code_verifier'] ?? '')
          .digest('base64url'),
        url.searchParams.get('code_challenge'),
      )
      assert.equal(redemption?.form?.['client_secret'], undefined)
      assert.equal(
        op.requests({ route: '/jwks' }).length,
        1,
        'the ID token checked against the JWKS',
      )

      const cache = await readTokenCache(home)
      assert.deepEqual(entryCounts(cache), oneOfEach)
      const account = onlyValue(cache?.Account)
      assert.equal(account['home_account_id'], op.user.sub)
      assert.equal(account['local_account_id'], op.user.sub)
      assert.equal(account['username'], op.user.preferred_username)
      assert.equal(account['environment'], '127.0.0.1')
      const accessToken = onlyValue(cache?.AccessToken)
      assert.equal(accessToken['home_account_id'], op.user.sub)
      assert.match(String(accessToken['target']), new RegExp(demoRead.replace(/\//g, '\\/')))
      const at = jwtParts(String(accessToken['secret']))
      assert.equal(at.claims['aud'], demoResource)
      assert.equal(at.claims['sub'], op.user.sub)
      const idToken = jwtParts(String(onlyValue(cache?.IdToken)['secret']))
      assert.equal(idToken.claims['iss'], op.issuer)
      assert.equal(idToken.claims['aud'], op.clients.public.clientId)
      assert.equal(idToken.claims['preferred_username'], op.user.preferred_username)
      assert.equal(idToken.claims['nonce'], url.searchParams.get('nonce'))

      op.clearLog()
      const token = await run(home, ['token', '--scope', demoRead, ...publicArgs()])
      assert.equal(token.exitCode, 0, token.stderr)
      assert.equal(token.stderr, '')
      assert.equal(token.stdout, `${String(accessToken['secret'])}\n`)
      assert.deepEqual(op.log, [], 'the token came from the cache: no request at all')

      const accounts = await run(home, ['accounts', '-o', 'json', ...withoutCaFile(publicArgs())])
      assert.equal(accounts.exitCode, 0, accounts.stderr)
      const list = JSON.parse(accounts.stdout) as Record<string, unknown>[]
      assert.equal(list.length, 1)
      assert.equal(list[0]?.['home_account_id'], op.user.sub)
      assert.equal(list[0]?.['username'], op.user.preferred_username)
      assert.equal(list[0]?.['environment'], '127.0.0.1')
      assert.deepEqual(op.log, [])
    })

    test('--response-mode form_post: the provider posts the code to the listener', async () => {
      const home = await tempDir()
      const { url, redirectUri, landing, result } = await browserLogin(home, [
        '--response-mode',
        'form_post',
      ])
      assert.equal(url.searchParams.get('response_mode'), 'form_post')
      assert.equal(landing.url.origin, redirectUri.origin)
      assert.equal(landing.url.search, '', 'the code did not travel in the URL')
      assert.equal(landing.heading, 'Authentication completed')
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(
        result.stderr,
        new RegExp(`^Signed in as ${op.user.preferred_username.replace('.', '\\.')}$`, 'm'),
      )
      assert.equal(op.tokenRequests().length, 1)
      assert.deepEqual(entryCounts(await readTokenCache(home)), oneOfEach)
    })

    /** `login --device-code`, completed in the browser at the provider's verification page. */
    async function deviceLogin(home: string) {
      const { page, hosts } = await freshBrowser()
      op.clearLog()
      const login = startLogin(home, [
        'login',
        '--device-code',
        '--scope',
        demoRead,
        ...publicArgs(),
      ])
      const message = await login.line(/enter the code/)
      const match = /open (\S+) and enter the code (\S+?)\.?$/.exec(message)
      assert.ok(match, `the device code message: ${message}`)
      const [, verificationUri = '', userCode = ''] = match
      await page.goto(verificationUri)
      const pages = await completeProviderPages(page, op, { user: op.user, userCode })
      const done = { heading: await heading(page), pages }
      assert.deepEqual([...hosts], [op.host], 'the browser talked to the provider only')
      return { message, verificationUri, userCode, done, result: await login.done }
    }

    test('login --device-code: the code typed at the provider page while msal-ts polls', async () => {
      const home = await tempDir()
      const { message, verificationUri, userCode, done, result } = await deviceLogin(home)
      assert.equal(verificationUri, op.endpoints.deviceVerification)
      assert.match(userCode, /^[A-Z]{4}-[A-Z]{4}$/)
      assert.deepEqual(done.pages, ['user-code', 'confirm-device', 'login', 'consent'])
      assert.equal(done.heading, 'Sign-in Success')
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, '')
      assert.deepEqual(result.stderr.split('\n'), [
        message,
        `Signed in as ${op.user.preferred_username}`,
        '',
      ])

      const [authorization] = op.requests({ route: '/device/auth' })
      assert.equal(authorization?.form?.['client_id'], op.clients.public.clientId)
      assert.deepEqual(
        (authorization?.form?.['scope'] ?? '').split(' ').sort(),
        [demoRead, 'offline_access', 'openid', 'profile'].sort(),
      )
      const polls = op.tokenRequests()
      assert.ok(polls.length >= 1)
      for (const poll of polls) {
        assert.equal(poll.form?.['grant_type'], deviceCodeGrant)
        assert.equal(poll.form?.['device_code'], polls[0]?.form?.['device_code'])
      }
      assert.deepEqual(
        polls.map((poll) => poll.status),
        [...polls.slice(1).map(() => 400), 200],
        'authorization_pending until the person approved, then the tokens',
      )
      const cache = await readTokenCache(home)
      assert.deepEqual(entryCounts(cache), oneOfEach)
      assert.equal(onlyValue(cache?.Account)['home_account_id'], op.user.sub)
    })

    test('after a browser sign-in, token --force-refresh redeems the rotated refresh token, twice; logout --all --yes empties the cache', async () => {
      const home = await tempDir()
      const { result } = await browserLogin(home)
      assert.equal(result.exitCode, 0, result.stderr)
      const rtOf = (cache: TokenCacheFile | undefined) =>
        String(onlyValue(cache?.RefreshToken)['secret'])
      const atOf = (cache: TokenCacheFile | undefined) =>
        String(onlyValue(cache?.AccessToken)['secret'])
      const initial = await readTokenCache(home)

      const refreshed: string[] = []
      let previous = initial
      for (const round of [1, 2]) {
        op.clearLog()
        const forced = await run(home, [
          'token',
          '--force-refresh',
          '--scope',
          demoRead,
          ...publicArgs(),
          '-o',
          'json',
        ])
        assert.equal(forced.exitCode, 0, `round ${round}: ${forced.stderr}`)
        assert.equal(forced.stderr, '')
        const out = JSON.parse(forced.stdout) as Record<string, unknown>
        assert.equal(out['token_source'], 'identity_provider')
        const [request, ...more] = op.tokenRequests()
        assert.equal(more.length, 0)
        assert.equal(request?.status, 200, request?.responseBody)
        assert.equal(request?.form?.['grant_type'], 'refresh_token')
        assert.equal(
          request?.form?.['refresh_token'],
          rtOf(previous),
          `round ${round}: the latest refresh token`,
        )
        assert.equal(request?.form?.['client_id'], op.clients.public.clientId)

        const now = await readTokenCache(home)
        assert.deepEqual(entryCounts(now), oneOfEach)
        assert.notEqual(
          rtOf(now),
          rtOf(previous),
          `round ${round}: the rotated refresh token is kept`,
        )
        assert.notEqual(atOf(now), atOf(previous))
        assert.equal(atOf(now), out['access_token'])
        refreshed.push(rtOf(now))
        previous = now
      }
      assert.equal(new Set([rtOf(initial), ...refreshed]).size, 3)

      // The provider consumed the first refresh token: reusing it is refused (and, per its reuse
      // detection, revokes the grant), which is why msal-ts must have sent the rotated one.
      const reuse = await fetch(op.endpoints.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: rtOf(initial),
          client_id: op.clients.public.clientId,
        }),
      })
      assert.equal(reuse.status, 400)
      assert.equal(((await reuse.json()) as Record<string, unknown>)['error'], 'invalid_grant')

      const logout = await run(home, ['logout', '--all', '--yes', ...withoutCaFile(publicArgs())])
      assert.equal(logout.exitCode, 0, logout.stderr)
      assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
      const accounts = await run(home, ['accounts', '-o', 'json', ...withoutCaFile(publicArgs())])
      assert.equal(accounts.exitCode, 0, accounts.stderr)
      assert.deepEqual(JSON.parse(accounts.stdout), [])
      const token = await run(home, ['token', '--scope', demoRead, ...publicArgs()])
      assert.equal(token.exitCode, 3, token.stderr)
    })

    test('an ID token whose signature does not verify against the provider JWKS is refused: login fails, nothing cached', async () => {
      const home = await tempDir()
      op.tamper.idToken = 'flip-signature'
      try {
        const { result } = await deviceLogin(home)
        const [redemption] = op.tokenRequests().filter((r) => r.status === 200)
        const sent = JSON.parse(redemption?.responseBody ?? '{}') as Record<string, unknown>
        assert.ok(typeof sent['id_token'] === 'string', 'the provider did send an ID token')
        assert.equal(result.exitCode, 1, `msal-ts accepted a tampered ID token:\n${result.stderr}`)
        assert.equal(result.stdout, '')
        assert.match(result.stderr, signatureRefused)
        assertNoStack(result.stderr)
        assert.deepEqual(entryCounts(await readTokenCache(home)), noTokens)
      } finally {
        delete op.tamper.idToken
      }
    })

    test('an ID token signed with a key the provider does not publish is refused on refresh: the cached tokens stay', async () => {
      const home = await tempDir()
      const { result } = await deviceLogin(home)
      assert.equal(result.exitCode, 0, result.stderr)
      const before = await readTokenCache(home)
      op.tamper.idToken = 'foreign-key'
      try {
        op.clearLog()
        const forced = await run(home, [
          'token',
          '--force-refresh',
          '--scope',
          demoRead,
          ...publicArgs(),
        ])
        assert.equal(op.tokenRequests()[0]?.status, 200, 'the provider answered with tokens')
        assert.equal(forced.exitCode, 1, `msal-ts accepted a forged ID token:\n${forced.stderr}`)
        assert.equal(forced.stdout, '')
        assert.match(forced.stderr, signatureRefused)
        assertNoStack(forced.stderr)
        assert.deepEqual(
          await readTokenCache(home),
          before,
          'nothing from the forged answer was cached',
        )
      } finally {
        delete op.tamper.idToken
      }
    })
  })
})
