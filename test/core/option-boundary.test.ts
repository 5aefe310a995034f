// Every option object of the public classes is checked where it comes in (the built package, as a
// JavaScript caller without types reaches it): a wrong type, a wrong shape or an unknown name is a
// UsageError naming the option, before any request, never a TypeError from deep inside or a value
// that goes out on the wire as `[object Object]`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SerializableTokenCache, UsageError, memoryStore, type HttpClient } from 'msal-ts'
import { assertUsageError } from './usage-error.js'
import { authority, cca, pca } from './offline-apps.js'

const account = { home_account_id: 'uid.utid', environment: 'login.microsoftonline.com' }
const scopes = ['api://x/.default']
// What a caller without types may pass for an options object.
const as = <T>(value: unknown) => value as T

/** [what, the call, the word the message must name] */
const refused: [string, () => unknown, string][] = [
  ['clientId: 5', () => cca({ clientId: 5 }), 'clientId'],
  ['clientCredential: 5', () => cca({ clientCredential: 5 }), 'clientCredential'],
  ['clientCredential: {foo: 1}', () => cca({ clientCredential: { foo: 1 } }), 'foo'],
  ['tokenCache: {}', () => cca({ tokenCache: {} }), 'tokenCache'],
  ['cacheStore: {}', () => cca({ cacheStore: {} }), 'cacheStore'],
  ['httpCache: {}', () => cca({ httpCache: {} }), 'httpCache'],
  ['httpClient: {}', () => cca({ httpClient: {} }), 'httpClient'],
  ['clock: 5', () => cca({ clock: 5 }), 'clock'],
  ['logger: console', () => cca({ logger: console }), 'logger'],
  ['azureRegion: 5', () => cca({ azureRegion: 5 }), 'azureRegion'],
  ["instanceDiscovery: 'false'", () => cca({ instanceDiscovery: 'false' }), 'instanceDiscovery'],
  [
    'instanceDiscovery over plain http to a remote host',
    () => cca({ instanceDiscovery: 'http://evil.example/common/discovery/instance' }),
    'instanceDiscovery',
  ],
  [
    "excludeScopes: 'offline_access'",
    () => pca({ excludeScopes: 'offline_access' }),
    'excludeScopes',
  ],
  ['verify: 5', () => cca({ verify: 5 }), 'verify'],
  ["validateAuthority: 'no'", () => cca({ validateAuthority: 'no' }), 'validateAuthority'],
  ['env: 5', () => cca({ env: 5 }), 'env'],
  ["enablePiiLog: 'yes'", () => cca({ enablePiiLog: 'yes' }), 'enablePiiLog'],
  ["clientCapabilities: 'CP1'", () => cca({ clientCapabilities: 'CP1' }), 'clientCapabilities'],
  ['clientCapabilities: [1]', () => cca({ clientCapabilities: [1] }), 'clientCapabilities'],
  ["clientClaims: 'x'", () => cca({ clientClaims: 'x' }), 'clientClaims'],
  ['clientClaims: an array', () => cca({ clientClaims: ['a'] }), 'clientClaims'],
  ['client_capabilities', () => cca({ client_capabilities: ['CP1'] }), 'clientCapabilities'],
  ['bogusOption', () => cca({ bogusOption: 1 }), 'bogusOption'],
  [
    "forceRefresh: 'no'",
    () => cca().acquireTokenForClient(scopes, as({ forceRefresh: 'no' })),
    'forceRefresh',
  ],
  [
    'force_refresh',
    () => cca().acquireTokenForClient(scopes, as({ force_refresh: true })),
    'forceRefresh',
  ],
  [
    'claimsChallenge as an object, without capabilities',
    () => cca().acquireTokenForClient(scopes, as({ claimsChallenge: { a: 1 } })),
    'claimsChallenge',
  ],
  [
    'claimsChallenge as a number',
    () => cca().acquireTokenForClient(scopes, as({ claimsChallenge: 5 })),
    'claimsChallenge',
  ],
  [
    'claimsChallenge that is not JSON',
    () => cca().acquireTokenForClient(scopes, { claimsChallenge: '{oops' }),
    'claimsChallenge',
  ],
  ...[Number.NaN, -1, '600', Number.POSITIVE_INFINITY].flatMap(
    (minValidity): [string, () => unknown, string][] => [
      [
        `acquireTokenForClient minValidity: ${String(minValidity)}`,
        () => cca().acquireTokenForClient(scopes, as({ minValidity })),
        'minValidity',
      ],
      [
        `acquireTokenSilent minValidity: ${String(minValidity)}`,
        () => pca().acquireTokenSilent(['User.Read'], as(account), as({ minValidity })),
        'minValidity',
      ],
    ],
  ),
  [
    'acquireTokenSilent with {} as the account',
    () => pca().acquireTokenSilent(['User.Read'], as({})),
    'account',
  ],
  [
    'acquireTokenSilent with a username as the account',
    () => pca().acquireTokenSilent(['User.Read'], as('a@b.c')),
    'account',
  ],
  [
    'acquireTokenSilent with a misspelt option',
    () => pca().acquireTokenSilent(['User.Read'], as(account), as({ forcerefresh: true })),
    'forcerefresh',
  ],
  [
    'acquireTokenByAuthCodeFlow(null, null)',
    () => pca().acquireTokenByAuthCodeFlow(as(null), as(null)),
    'flow',
  ],
  [
    "initiateAuthCodeFlow maxAge: 'abc'",
    () => pca().initiateAuthCodeFlow(['User.Read'], as({ maxAge: 'abc' })),
    'maxAge',
  ],
  [
    "initiateAuthCodeFlow responseMode: 'fragment'",
    () => pca().initiateAuthCodeFlow(['User.Read'], as({ responseMode: 'fragment' })),
    'responseMode',
  ],
  [
    'initiateAuthCodeFlow login_hint',
    () => pca().initiateAuthCodeFlow(['User.Read'], as({ login_hint: 'a@b.c' })),
    'loginHint',
  ],
  [
    'getAuthorizationRequestUrl maxAge: -1',
    () => pca().getAuthorizationRequestUrl(['User.Read'], { maxAge: -1 }),
    'maxAge',
  ],
  [
    'acquireTokenByDeviceFlow with a string timeout',
    () => pca().acquireTokenByDeviceFlow(as({}), as({ timeoutMs: '5' })),
    'timeoutMs',
  ],
]

for (const [name, call, names] of refused) {
  test(`${name}: a UsageError naming ${names}, before any request`, () =>
    assertUsageError(UsageError, call, names))
}

test('a snake_case option name gets the camelCase one suggested', () => {
  assert.throws(
    () => cca({ client_capabilities: ['CP1'] }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.code === 'unknown_option' &&
      /did you mean clientCapabilities\?/.test(error.message),
  )
})

test('a client assertion callback that returns no string is a UsageError naming it', async () => {
  const app = cca({
    clientCredential: { clientAssertion: () => 5 },
    instanceDiscovery: false,
    httpClient: {
      request: () =>
        Promise.resolve({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token_endpoint: `${authority}/oauth2/v2.0/token` }),
        }),
    },
  })
  await assert.rejects(
    app.acquireTokenForClient(scopes),
    (error: unknown) =>
      error instanceof UsageError &&
      error.code === 'invalid_assertion' &&
      error.message.includes('clientAssertion'),
  )
})

test('options of the right shapes are taken', () => {
  assert.doesNotThrow(() =>
    cca({
      tokenCache: new SerializableTokenCache(),
      cacheStore: memoryStore(),
      httpCache: memoryStore(),
      popKeyStore: memoryStore(),
      clock: () => 0,
      logger: () => undefined,
      azureRegion: 'westus',
      instanceDiscovery: 'https://login.microsoftonline.com/common/discovery/instance',
      verify: true,
      validateAuthority: true,
      env: { A: 'b', C: undefined },
      enablePiiLog: false,
      clientCapabilities: ['CP1'],
      clientClaims: { a: 1 },
      excludeScopes: ['offline_access'],
      timeout: 5,
      proxies: undefined,
    }),
  )
  assert.doesNotThrow(() =>
    cca({ clientCredential: { privateKey: 'pem', thumbprint: 'ab', sendX5c: false } }),
  )
  assert.doesNotThrow(() => cca({ instanceDiscovery: 'http://127.0.0.1:8/discovery' }))
})

test('minValidity 0 still leaves a token with under 300 s left to the identity provider', async () => {
  let posts = 0
  const http: HttpClient = {
    request(req) {
      posts += req.method === 'POST' ? 1 : 0
      const body =
        req.method === 'POST'
          ? { token_type: 'Bearer', expires_in: 250, access_token: `at-${posts}` }
          : { token_endpoint: `${authority}/oauth2/v2.0/token` }
      return Promise.resolve({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    },
  }
  const app = cca({ httpClient: http, instanceDiscovery: false })
  await app.acquireTokenForClient(scopes)
  const second = await app.acquireTokenForClient(scopes, { minValidity: 0 })
  assert.equal(second.token_source, 'identity_provider')
  assert.equal(posts, 2)
})
