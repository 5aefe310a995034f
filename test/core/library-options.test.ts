// Every option of the library, through the BUILT package as a user imports it (`msal-ts`, i.e.
// dist/lib/index.js): each field shows its effect on the wire (the test STS's log), in the cache or
// in the result, so a field some code path ignores fails here.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import {
  AuthorityBuilder,
  ConfidentialClientApplication,
  createHttpClient,
  ManagedIdentityClient,
  memoryStore,
  popAuthScheme,
  PublicClientApplication,
  SerializableTokenCache,
  UsageError,
  type HttpClient,
  type LogEvent,
} from 'msal-ts'
import { startConnectProxy } from '../fixtures/connect-proxy.js'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { tempDir } from '../cli/harness.js'

const graph = 'https://graph.microsoft.com/.default'

describe('library options (the built package)', () => {
  let sts: Sts
  let cert: ReturnType<typeof makeClientCertificate>
  const certClient = '21212121-2222-4333-8444-555555555555'

  before(async () => {
    sts = await startSts()
    cert = makeClientCertificate(await tempDir(), 'lib-app')
    sts.addClient({ clientId: certClient, certificatePem: cert.certPem })
  })
  after(() => sts.close())

  const secretApp = (
    extra: Partial<ConstructorParameters<typeof ConfidentialClientApplication>[0]> = {},
  ) =>
    new ConfidentialClientApplication({
      clientId: sts.defaults.confidentialClientId,
      clientCredential: sts.defaults.clientSecret,
      authority: sts.authority(),
      verify: sts.caFile,
      ...extra,
    })
  const publicApp = (
    extra: Partial<ConstructorParameters<typeof PublicClientApplication>[0]> = {},
  ) =>
    new PublicClientApplication({
      clientId: sts.defaults.publicClientId,
      authority: sts.authority(),
      verify: sts.caFile,
      ...extra,
    })
  const signIn = (app: PublicClientApplication, scopes = ['User.Read']) =>
    app.acquireTokenByUsernamePassword(sts.defaults.username, sts.defaults.password, scopes)
  const lastToken = () => sts.tokenRequests().at(-1)

  describe('tokenCache (MSAL token_cache=)', () => {
    test('two apps on one cache object share its tokens', async () => {
      const tokenCache = new SerializableTokenCache()
      const first = secretApp({ tokenCache })
      const second = secretApp({ tokenCache })
      sts.clearLog()
      const a = await first.acquireTokenForClient([graph])
      const b = await second.acquireTokenForClient([graph])
      assert.equal(b.token_source, 'cache')
      assert.equal(b.access_token, a.access_token)
      assert.equal(sts.tokenRequests().length, 1)
      await Promise.all([first.close(), second.close()])
    })

    test('a cache passed in holds the new tokens; its state changed and serializes them', async () => {
      const tokenCache = new SerializableTokenCache()
      const app = secretApp({ tokenCache })
      const result = await app.acquireTokenForClient([graph])
      assert.equal(tokenCache.hasStateChanged, true)
      const state = JSON.parse(tokenCache.serialize()) as { AccessToken: object }
      assert.deepEqual(
        Object.values(state.AccessToken).map((at: { secret: string }) => at.secret),
        [result.access_token],
      )
      assert.equal(tokenCache.hasStateChanged, false)
      await app.close()
    })

    test('a deserialized state is served without a request, and leaves the state unchanged', async () => {
      const saved = new SerializableTokenCache()
      const firstApp = secretApp({ tokenCache: saved })
      const first = await firstApp.acquireTokenForClient([graph])
      await firstApp.close()
      const tokenCache = new SerializableTokenCache()
      tokenCache.deserialize(saved.serialize())
      const app = secretApp({ tokenCache })
      sts.clearLog()
      const again = await app.acquireTokenForClient([graph])
      assert.equal(again.access_token, first.access_token)
      assert.equal(again.token_source, 'cache')
      assert.equal(sts.tokenRequests().length, 0)
      assert.equal(tokenCache.hasStateChanged, false)
      await app.close()
    })

    test('a user cache passed in serves acquireTokenSilent to a second public app', async () => {
      const tokenCache = new SerializableTokenCache()
      const app = publicApp({ tokenCache })
      const signedIn = await signIn(app)
      const other = publicApp({ tokenCache })
      const [account] = await other.getAccounts()
      assert.ok(account)
      sts.clearLog()
      const silent = await other.acquireTokenSilent(['User.Read'], account)
      assert.equal(silent?.access_token, signedIn.access_token)
      assert.equal(sts.tokenRequests().length, 0)
      await Promise.all([app.close(), other.close()])
    })

    test('cacheStore, when given, is where the tokens are kept', async () => {
      const cacheStore = memoryStore()
      const app = secretApp({ cacheStore })
      const result = await app.acquireTokenForClient([graph])
      const doc = (await cacheStore.read()) as { AccessToken: Record<string, { secret: string }> }
      assert.deepEqual(
        Object.values(doc.AccessToken).map((at) => at.secret),
        [result.access_token],
      )
      await app.close()
    })
  })

  describe('forceRefresh and claimsChallenge with a domain tenant before discovery is cached', () => {
    for (const [name, options] of [
      ['forceRefresh', { forceRefresh: true }],
      ['claimsChallenge', { claimsChallenge: '{"access_token":{"acrs":{"essential":true}}}' }],
    ] as const) {
      test(`${name} replaces the cached token`, async () => {
        const cacheStore = memoryStore()
        const domainApp = () =>
          secretApp({ cacheStore, authority: sts.authority(sts.tenantDomain) })
        const first = domainApp()
        const old = await first.acquireTokenForClient([graph])
        await first.close()
        // A new app has no discovery answer yet (a new process, or a day later).
        const second = domainApp()
        sts.clearLog()
        const fresh = await second.acquireTokenForClient([graph], options)
        assert.equal(fresh.token_source, 'identity_provider')
        assert.notEqual(fresh.access_token, old.access_token)
        assert.equal(sts.tokenRequests().length, 1)
        await second.close()
      })
    }
  })

  test('acquireTokenSilent and …WithError with no account resolve undefined, as MSAL returns None', async () => {
    const app = publicApp()
    await signIn(app)
    assert.equal(await app.acquireTokenSilent(['User.Read'], undefined), undefined)
    assert.equal(await app.acquireTokenSilent(['User.Read'], null), undefined)
    assert.equal(await app.acquireTokenSilentWithError(['User.Read'], undefined), undefined)
    await app.close()
  })

  describe('claimsChallenge of the user flows (MSAL claims_challenge=)', () => {
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'

    test('acquireTokenByUsernamePassword sends the claims challenge as claims', async () => {
      const app = publicApp()
      sts.clearLog()
      await app.acquireTokenByUsernamePassword(
        sts.defaults.username,
        sts.defaults.password,
        ['User.Read'],
        { claimsChallenge: claims },
      )
      assert.equal(lastToken()?.form?.['grant_type'], 'password')
      assert.equal(lastToken()?.form?.['claims'], claims)
      await app.close()
    })

    test('acquireTokenSilent with a claims challenge skips the cached token and refreshes with claims', async () => {
      const app = publicApp()
      const signedIn = await signIn(app)
      const [account] = await app.getAccounts()
      sts.clearLog()
      const cached = await app.acquireTokenSilent(['User.Read'], account)
      assert.equal(cached?.access_token, signedIn.access_token)
      assert.equal(sts.tokenRequests().length, 0)
      const challenged = await app.acquireTokenSilent(['User.Read'], account, {
        claimsChallenge: claims,
      })
      assert.equal(challenged?.token_source, 'identity_provider')
      assert.deepEqual(
        sts.tokenRequests().map((r) => [r.form?.['grant_type'], r.form?.['claims']]),
        [['refresh_token', claims]],
      )
      await app.close()
    })
  })

  describe('logger and enablePiiLog', () => {
    async function logOf(extra: { enablePiiLog?: boolean }): Promise<string> {
      const events: LogEvent[] = []
      const app = publicApp({ logger: (event) => events.push(event), ...extra })
      const result = await signIn(app)
      await app.close()
      assert.ok(events.length > 0)
      return JSON.stringify(events) + '\n' + result.access_token
    }

    test('without enablePiiLog no event holds the username', async () => {
      const [log] = (await logOf({})).split('\n')
      assert.doesNotMatch(log ?? '', new RegExp(sts.defaults.username.split('@')[0] ?? '-', 'i'))
      assert.doesNotMatch(log ?? '', /eyJ[\w-]{5,}\.[\w-]{5,}\./)
    })

    test('with enablePiiLog the user realm URL keeps the username', async () => {
      const [log] = (await logOf({ enablePiiLog: true })).split('\n')
      assert.ok(log?.includes(`/userrealm/${encodeURIComponent(sts.defaults.username)}`), log)
    })
  })

  describe('certificate credential', () => {
    const certApp = (credential: Record<string, unknown>) =>
      new ConfidentialClientApplication({
        clientId: certClient,
        clientCredential: { privateKey: cert.keyPem, ...credential },
        authority: sts.authority(),
        verify: sts.caFile,
        clientClaims: { client_ip: '192.0.2.1' },
      })
    const leaf = () => cert.certPem.replace(/-----[A-Z ]+-----|\s/g, '')

    test('publicCertificate is sent as x5c (MSAL public_certificate); clientClaims are signed in', async () => {
      const app = certApp({ publicCertificate: cert.certPem })
      await app.acquireTokenForClient([graph])
      const assertion = lastToken()?.assertion
      assert.equal(assertion?.valid, true, assertion?.failure)
      assert.deepEqual(assertion?.header['x5c'], [leaf()])
      assert.equal(assertion?.payload['client_ip'], '192.0.2.1')
      await app.close()
    })

    test('a thumbprint alone, or sendX5c false, sends no x5c; sendX5c without a certificate is refused', async () => {
      for (const credential of [
        { thumbprint: cert.thumbprintSha1Hex },
        { publicCertificate: cert.certPem, sendX5c: false },
      ]) {
        const app = certApp(credential)
        await app.acquireTokenForClient([graph], { forceRefresh: true })
        const assertion = lastToken()?.assertion
        assert.equal(assertion?.valid, true, assertion?.failure)
        assert.equal('x5c' in (assertion?.header ?? {}), false)
        await app.close()
      }
      const refused = certApp({ thumbprint: cert.thumbprintSha1Hex, sendX5c: true })
      await assert.rejects(
        refused.acquireTokenForClient([graph], { forceRefresh: true }),
        UsageError,
      )
      await refused.close()
    })

    test('an assertion function is called for every request', async () => {
      let calls = 0
      const app = new ConfidentialClientApplication({
        clientId: sts.defaults.confidentialClientId,
        clientCredential: {
          clientAssertion: () => {
            calls += 1
            return `not-a-real-jwt-${calls}`
          },
        },
        authority: sts.authority(),
        verify: sts.caFile,
      })
      for (const n of [1, 2]) {
        await app.acquireTokenForClient([graph], { forceRefresh: true }).catch(() => undefined)
        assert.equal(lastToken()?.form?.['client_assertion'], `not-a-real-jwt-${n}`)
      }
      await app.close()
    })
  })

  test('instance discovery: api-version 1.0 after authorization_endpoint, no Accept header', async () => {
    const endpoint = `${sts.url}/common/discovery/instance`
    const urls: string[] = []
    const app = secretApp({
      instanceDiscovery: endpoint,
      enablePiiLog: true,
      logger: (event) => void (event.kind === 'http' && urls.push(event.url)),
    })
    sts.clearLog()
    await app.acquireTokenForClient([graph])
    const [asked] = sts.requests({ path: '/discovery/instance' })
    assert.deepEqual(asked?.query, {
      authorization_endpoint: `${sts.authority()}/oauth2/v2.0/authorize`,
      'api-version': '1.0',
    })
    assert.equal(asked?.headers['accept'], undefined)
    assert.match(
      urls.find((u) => u.startsWith(endpoint)) ?? '',
      /\?authorization_endpoint=[^&]+&api-version=1\.0$/,
    )
    await app.close()

    const unvalidated = secretApp({ instanceDiscovery: endpoint, validateAuthority: false })
    const skipped = secretApp({ instanceDiscovery: false })
    sts.clearLog()
    await unvalidated.acquireTokenForClient([graph])
    await skipped.acquireTokenForClient([graph])
    assert.equal(sts.requests({ path: '/discovery/instance' }).length, 0)
    await Promise.all([unvalidated.close(), skipped.close()])
  })

  test('PoP: every SHR is fresh (a random nonce); a given nonce is used as is; popKeyStore keeps the key', async () => {
    const popKeyStore = memoryStore()
    const app = publicApp({ popKeyStore })
    await signIn(app)
    const [account] = await app.getAccounts()
    const url = 'https://api.contoso.test/items'
    const shr = async (nonce?: string) =>
      (
        await app.acquireTokenSilent(['User.Read'], account, {
          authScheme: popAuthScheme('GET', url, nonce),
        })
      )?.access_token ?? ''
    const [a, b] = [await shr(), await shr()]
    assert.notEqual(a, b)
    assert.notEqual(decodeJwt(a)['nonce'], decodeJwt(b)['nonce'])
    assert.equal(typeof decodeJwt(a)['nonce'], 'string')
    assert.equal(decodeJwt(await shr('server-nonce'))['nonce'], 'server-nonce')
    assert.equal((await popKeyStore.read())?.['kid'], decodeProtectedHeader(a).kid)
    await app.close()
  })

  test('appName, appVersion, clientCapabilities, correlationId and excludeScopes reach the wire', async () => {
    const app = publicApp({
      appName: 'lib-test',
      appVersion: '9.9',
      clientCapabilities: ['CP1'],
      excludeScopes: ['offline_access'],
    })
    sts.clearLog()
    await signIn(app)
    const ropc = lastToken()
    assert.equal(ropc?.headers['x-app-name'], 'lib-test')
    assert.equal(ropc?.headers['x-app-ver'], '9.9')
    assert.deepEqual(JSON.parse(ropc?.form?.['claims'] ?? '{}'), {
      access_token: { xms_cc: { values: ['CP1'] } },
    })
    assert.doesNotMatch(ropc?.form?.['scope'] ?? '', /offline_access/)
    await app.close()

    const withRt = publicApp()
    await signIn(withRt)
    const [account] = await withRt.getAccounts()
    await withRt.acquireTokenSilent(['User.Read'], account, {
      forceRefresh: true,
      correlationId: 'c0ffee00-0000-4000-8000-000000000001',
    })
    assert.equal(lastToken()?.grantType, 'refresh_token')
    assert.equal(lastToken()?.headers['client-request-id'], 'c0ffee00-0000-4000-8000-000000000001')
    await withRt.close()
  })

  test('minValidity skips a cached token that would expire too soon', async () => {
    const app = secretApp()
    const first = await app.acquireTokenForClient([graph])
    assert.equal((await app.acquireTokenForClient([graph])).access_token, first.access_token)
    const longer = await app.acquireTokenForClient([graph], {
      minValidity: sts.settings.accessTokenLifetime + 60,
    })
    assert.equal(longer.token_source, 'identity_provider')
    await app.close()
  })

  test('clock, httpCache and AuthorityBuilder', async () => {
    const httpCache = memoryStore()
    const app = new ConfidentialClientApplication({
      clientId: sts.defaults.confidentialClientId,
      clientCredential: sts.defaults.clientSecret,
      authority: new AuthorityBuilder(sts.url, sts.tenantId),
      verify: sts.caFile,
      clock: () => 1_900_000_000,
      httpCache,
      tokenCache: new SerializableTokenCache(),
    })
    sts.clearLog()
    const result = await app.acquireTokenForClient([graph])
    assert.equal(result.expires_on, 1_900_000_000 + sts.settings.accessTokenLifetime)
    assert.equal(lastToken()?.path, `/${sts.tenantId}/oauth2/v2.0/token`)
    const cached = JSON.parse(app.tokenCache.serialize()) as {
      AccessToken: Record<string, { cached_at: string }>
    }
    assert.deepEqual(
      Object.values(cached.AccessToken).map((at) => at.cached_at),
      ['1900000000'],
    )
    assert.ok(JSON.stringify((await httpCache.read()) ?? {}).includes('openid-configuration'))
    await app.close()
  })

  test('httpClient carries every request; verify true refuses the test CA, false and a CA file trust it', async () => {
    const inner = createHttpClient({ caFile: sts.caFile, timeoutMs: 10_000 }, () => undefined)
    const seen: string[] = []
    const own: HttpClient = {
      request(req) {
        seen.push(`${req.method} ${new URL(req.url).pathname}`)
        return inner.request(req)
      },
    }
    const app = secretApp({ httpClient: own, verify: true })
    await app.acquireTokenForClient([graph])
    assert.deepEqual(seen, [
      `GET /${sts.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${sts.tenantId}/oauth2/v2.0/token`,
    ])
    await Promise.all([app.close(), inner.close()])

    const untrusted = secretApp({ verify: true })
    await assert.rejects(
      untrusted.acquireTokenForClient([graph]),
      (error: Error & { kind?: string }) => {
        assert.equal(error.kind, 'runtime')
        return true
      },
    )
    await untrusted.close()
    const insecure = secretApp({ verify: false })
    assert.equal((await insecure.acquireTokenForClient([graph])).token_source, 'identity_provider')
    await insecure.close()
  })

  test('proxies: a URL for every request, or one for each scheme as MSAL maps them', async () => {
    const proxy = await startConnectProxy()
    try {
      for (const proxies of [
        proxy.url,
        { https: proxy.url },
        { http: 'http://127.0.0.1:9', https: proxy.url },
        // null is no proxy for that scheme, as None in MSAL's mapping.
        { http: null, https: proxy.url },
        { http: undefined, https: proxy.url },
      ]) {
        proxy.tunnels.length = 0
        const app = secretApp({ proxies })
        assert.equal((await app.acquireTokenForClient([graph])).token_source, 'identity_provider')
        await app.close()
        assert.ok(proxy.tunnels.includes(new URL(sts.url).host), JSON.stringify(proxy.tunnels))
      }
    } finally {
      proxy.close()
    }
  })

  test('proxies: a scheme mapped to null or undefined goes without a proxy', async () => {
    const proxy = await startConnectProxy()
    try {
      for (const proxies of [
        { https: null },
        { https: undefined },
        { http: null, https: null },
        // As in requests' mapping, the http entry is for http:// URLs only: the STS is https.
        { http: proxy.url },
        { http: proxy.url, https: null },
      ]) {
        const app = secretApp({ proxies })
        assert.equal((await app.acquireTokenForClient([graph])).token_source, 'identity_provider')
        await app.close()
      }
      assert.deepEqual(proxy.tunnels, [])
    } finally {
      proxy.close()
    }
  })

  test('proxies: anything but a proxy URL or { http, https } of them is refused at construction', () => {
    for (const proxies of [
      '',
      'not a url',
      'file:///etc/passwd',
      // undici sent TLS straight to the SOCKS port: every request failed with a reset.
      'socks5://127.0.0.1:1080',
      'socks://127.0.0.1:1080',
      { https: 'socks5://127.0.0.1:1080' },
      'http://u:p@127.0.0.1:48888/%zz',
      'http://127.0.0.1:3128/path',
      'http://127.0.0.1:3128?q',
      'http://u:%zz@127.0.0.1:3128',
      5,
      null,
      ['http://127.0.0.1:3128'],
      { ftp: 'http://127.0.0.1:3128' },
      { https: 'not a url' },
      { http: 5 },
      // Read by Object.entries as mappings of nothing, these left every request unproxied.
      new Map([['https', 'http://127.0.0.1:3128']]),
      Object.assign(Object.create({ https: 'http://127.0.0.1:3128' }) as object, {}),
      new URL('http://127.0.0.1:3128'),
    ]) {
      for (const make of [
        () => secretApp({ proxies: proxies as string }),
        () => new ManagedIdentityClient({ proxies: proxies as string }),
      ]) {
        assert.throws(
          make,
          (error: Error & { code?: string }) => {
            assert.ok(error instanceof UsageError, String(error))
            assert.equal(error.code, 'invalid_proxy')
            return true
          },
          JSON.stringify(proxies),
        )
      }
    }
    assert.doesNotThrow(() => secretApp({ proxies: 'http://u:p%40ss@127.0.0.1:3128' }))
  })

  test('timeout: one Node cannot wait for, or none at all, is refused at construction', () => {
    for (const timeout of [
      -1,
      0,
      Number.NaN,
      Infinity,
      1e12,
      2_147_484,
      '30' as unknown as number,
      // JSON showed these as null, and threw a TypeError of its own on the bigint.
      30n as unknown as number,
      new Date(0) as unknown as number,
    ]) {
      for (const make of [
        () => secretApp({ timeout }),
        () => publicApp({ timeout }),
        () => new ManagedIdentityClient({ timeout }),
      ]) {
        assert.throws(make, (error: Error & { code?: string }) => {
          assert.ok(error instanceof UsageError, String(error))
          assert.equal(error.code, 'invalid_timeout')
          assert.ok(!error.message.includes('null'), error.message)
          return true
        })
      }
    }
    for (const [timeout, shown] of [
      [Number.NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [30n, '30n'],
      [new Date(0), 'a Date'],
    ] as const) {
      assert.throws(
        () => secretApp({ timeout: timeout as unknown as number }),
        (error: Error) => error.message.endsWith(`not ${shown}`),
        shown,
      )
    }
    assert.doesNotThrow(() => secretApp({ timeout: 2_147_483 }))
  })

  test('appName and appVersion: anything but printable ASCII is refused at construction', () => {
    for (const [key, code] of [
      ['appName', 'invalid_app_name'],
      ['appVersion', 'invalid_app_version'],
    ] as const) {
      // Beyond ASCII, Node's client and undici (through a proxy) sent different bytes.
      for (const value of ['a\r\nX-Inj: 1', 'tab\there', '\u0085', 'emoji \u{1f600}', 'Café', 5]) {
        assert.throws(
          () => publicApp({ [key]: value }),
          (error: Error & { code?: string }) => {
            assert.ok(error instanceof UsageError, String(error))
            assert.equal(error.code, code)
            return true
          },
          `${key} ${JSON.stringify(value)}`,
        )
      }
    }
    assert.doesNotThrow(() => publicApp({ appName: 'Cafe tool', appVersion: '1.2.3-beta' }))
  })

  test('timeout: a provider that never answers fails the call (runtime), not the process', async () => {
    const app = secretApp({ timeout: 1 })
    sts.inject({ match: { method: 'POST' }, kind: 'hang', times: Infinity })
    try {
      await assert.rejects(
        app.acquireTokenForClient([graph], { forceRefresh: true }),
        (error: Error & { kind?: string }) => {
          assert.equal(error.kind, 'runtime')
          return true
        },
      )
    } finally {
      sts.clearFaults()
      await app.close()
    }
  })
})
