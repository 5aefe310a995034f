import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfidentialClientApplication } from '../../src/core/clients/confidential-client.js'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'
import { OAuthServerError, UsageError } from '../../src/core/kernel/errors.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/core/http/types.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'

const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'

/** An identity provider in a function: answers discovery and client credentials, records every request. */
function fakeIdp(
  tokenAnswer: (req: HttpRequest) => Partial<HttpResponse> & { json?: unknown } = () => ({}),
) {
  const requests: HttpRequest[] = []
  let issued = 0
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      const url = new URL(req.url)
      if (url.pathname.endsWith('/openid-configuration')) {
        const t =
          url.pathname.split('/')[1] === 'contoso.onmicrosoft.com'
            ? tenant
            : url.pathname.split('/')[1]
        return json(200, {
          token_endpoint: `https://${url.host}/${t}/oauth2/v2.0/token`,
          authorization_endpoint: `https://${url.host}/${t}/oauth2/v2.0/authorize`,
        })
      }
      const custom = tokenAnswer(req)
      if (custom.status !== undefined) {
        return json(custom.status, custom.json, custom.headers)
      }
      issued += 1
      return json(200, {
        token_type: 'Bearer',
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: `token-${issued}`,
        ...(custom.json as object),
      })
    },
  }
  return { http, requests, tokenRequests: () => requests.filter((r) => r.method === 'POST') }
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return Promise.resolve({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

function app(
  http: HttpClient,
  extra: Partial<ConstructorParameters<typeof ConfidentialClientApplication>[0]> = {},
) {
  return new ConfidentialClientApplication({
    clientId: 'app-id',
    authority: `https://login.microsoftonline.com/${tenant}`,
    clientCredential: 'the secret',
    httpClient: http,
    cacheStore: memoryStore(),
    ...extra,
  })
}

test('the constructor makes no request, the first call discovers, the second hits the cache', async () => {
  const idp = fakeIdp()
  const cca = app(idp.http)
  assert.equal(idp.requests.length, 0)
  const first = await cca.acquireTokenForClient(['https://graph.microsoft.com/.default'])
  assert.equal(first.token_source, 'identity_provider')
  const second = await cca.acquireTokenForClient(['https://graph.microsoft.com/.default'])
  assert.equal(second.token_source, 'cache')
  assert.equal(second.access_token, first.access_token)
  assert.equal(idp.tokenRequests().length, 1)
  const [post] = idp.tokenRequests()
  assert.deepEqual(post?.form, {
    grant_type: 'client_credentials',
    client_id: 'app-id',
    scope: 'https://graph.microsoft.com/.default',
    client_info: '1',
    client_secret: 'the secret',
  })
  assert.equal(post?.headers?.['x-client-sku'], 'msal-ts')
  assert.equal(post?.headers?.['x-client-current-telemetry'], '4|730,2|')
  assert.equal(post?.headers?.['x-ms-lib-capability'], 'retry-after, h429')
})

test('a domain tenant is cached under the tenant id that discovery returned', async () => {
  const idp = fakeIdp()
  const store = memoryStore()
  const first = app(idp.http, {
    authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com',
    cacheStore: store,
  })
  await first.acquireTokenForClient(['s/.default'])
  const doc = await store.read()
  assert.deepEqual(
    Object.values((doc?.['AccessToken'] ?? {}) as Record<string, { realm: string }>).map(
      (at) => at.realm,
    ),
    [tenant],
  )
  const again = await first.acquireTokenForClient(['s/.default'])
  assert.equal(again.token_source, 'cache')
})

test('force refresh and a claims challenge skip the cache; capabilities go in claims', async () => {
  const idp = fakeIdp()
  const cca = app(idp.http, { clientCapabilities: ['CP1'] })
  await cca.acquireTokenForClient(['s/.default'])
  const forced = await cca.acquireTokenForClient(['s/.default'], { forceRefresh: true })
  assert.equal(forced.token_source, 'identity_provider')
  assert.equal(idp.tokenRequests()[1]?.headers?.['x-client-current-telemetry'], '4|730,1|')
  assert.equal(
    idp.tokenRequests()[1]?.form?.['claims'],
    '{"access_token":{"xms_cc":{"values":["CP1"]}}}',
  )
})

test('an aging token (refresh_on passed) is refreshed, and served when the refresh fails', async () => {
  let fail = false
  let now = 1_000_000
  const idp = fakeIdp(() =>
    fail ? { status: 400, json: { error: 'invalid_client' } } : { json: { refresh_in: 60 } },
  )
  const cca = app(idp.http, { clock: () => now })
  const first = await cca.acquireTokenForClient(['s/.default'])
  now += 120
  const refreshed = await cca.acquireTokenForClient(['s/.default'])
  assert.notEqual(refreshed.access_token, first.access_token)
  assert.equal(idp.tokenRequests()[1]?.headers?.['x-client-current-telemetry'], '4|730,4|')
  now += 120
  fail = true
  const aging = await cca.acquireTokenForClient(['s/.default'])
  assert.equal(aging.access_token, refreshed.access_token)
  assert.equal(aging.token_source, 'cache')
})

test('a token within five minutes of expiry is not served', async () => {
  let now = 1_000_000
  const idp = fakeIdp()
  const cca = app(idp.http, { clock: () => now })
  await cca.acquireTokenForClient(['s/.default'])
  now += 3600 - 299
  assert.equal((await cca.acquireTokenForClient(['s/.default'])).token_source, 'identity_provider')
})

test('a region sends client credentials to the regional host, with the central audience', async () => {
  const idp = fakeIdp()
  const cca = app(idp.http, { azureRegion: 'West US 2' })
  await cca.acquireTokenForClient(['s/.default'])
  assert.equal(new URL(idp.tokenRequests()[0]?.url ?? '').host, 'westus2.login.microsoft.com')
})

test('region auto reads REGION_NAME', async () => {
  process.env['REGION_NAME'] = 'eastus'
  try {
    const idp = fakeIdp()
    await app(idp.http, { azureRegion: true }).acquireTokenForClient(['s/.default'])
    assert.equal(new URL(idp.tokenRequests()[0]?.url ?? '').host, 'eastus.login.microsoft.com')
  } finally {
    delete process.env['REGION_NAME']
  }
})

test('the env option, not the process environment, is where MSAL_FORCE_REGION and REGION_NAME are read', async () => {
  process.env['MSAL_FORCE_REGION'] = 'westeurope'
  try {
    const forced = fakeIdp()
    await app(forced.http, { env: { MSAL_FORCE_REGION: 'northeurope' } }).acquireTokenForClient([
      's/.default',
    ])
    assert.equal(
      new URL(forced.tokenRequests()[0]?.url ?? '').host,
      'northeurope.login.microsoft.com',
    )
    const detected = fakeIdp()
    await app(detected.http, {
      env: { MSAL_FORCE_REGION: 'auto', REGION_NAME: 'eastus' },
    }).acquireTokenForClient(['s/.default'])
    assert.equal(new URL(detected.tokenRequests()[0]?.url ?? '').host, 'eastus.login.microsoft.com')
    const none = fakeIdp()
    await app(none.http, { env: {} }).acquireTokenForClient(['s/.default'])
    assert.equal(new URL(none.tokenRequests()[0]?.url ?? '').host, 'login.microsoftonline.com')
  } finally {
    delete process.env['MSAL_FORCE_REGION']
  }
})

test("the provider's error comes back as OAuthServerError with its fields", async () => {
  const idp = fakeIdp(() => ({
    status: 401,
    json: {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret.\r\nTrace ID: x',
      error_codes: [7000215],
      trace_id: 'tr',
    },
  }))
  await assert.rejects(app(idp.http).acquireTokenForClient(['s/.default']), (error: unknown) => {
    assert.ok(error instanceof OAuthServerError)
    assert.equal(error.code, 'invalid_client')
    assert.equal(error.message, 'AADSTS7000215: Invalid client secret.')
    assert.equal(error.body.trace_id, 'tr')
    return true
  })
})

test('constructor checks: client id, credential kinds, authority', () => {
  assert.throws(() => new PublicClientApplication({ clientId: '' }), UsageError)
  assert.throws(
    () => new PublicClientApplication({ clientId: 'x', clientCredential: 's' } as never),
    UsageError,
  )
  assert.throws(
    () =>
      new PublicClientApplication({
        clientId: 'x',
        authority: 'https://a/b',
        oidcAuthority: 'https://c',
      }),
    UsageError,
  )
  assert.throws(
    () => new PublicClientApplication({ clientId: 'x', excludeScopes: ['openid'] }),
    UsageError,
  )
})

test('azureRegion is refused for an authority without regional endpoints, at construction', () => {
  const http: HttpClient = {
    request: () => Promise.reject(new Error('no request expected')),
  }
  for (const where of [
    { authority: undefined, oidcAuthority: 'https://op.example/realm' },
    { authority: 'https://adfs.contoso.com/adfs' },
    { authority: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin' },
    { authority: 'https://contoso.ciamlogin.com/' },
    { authority: 'https://127.0.0.1:8443/tenant' },
  ]) {
    for (const azureRegion of ['westus', true] as const) {
      assert.throws(
        () => app(http, { ...where, azureRegion }),
        (error: unknown) =>
          error instanceof UsageError &&
          /regional endpoints exist only for Entra ID authorities/.test(error.message),
        JSON.stringify(where),
      )
    }
    app(http, { ...where, azureRegion: false })
  }
  app(http, { authority: 'https://localhost:8443/tenant', azureRegion: 'westus' })
})

test('a provider that offers only client_secret_basic gets the secret in an Authorization header', async () => {
  const requests: HttpRequest[] = []
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      if (req.method === 'GET') {
        return json(200, {
          issuer: 'https://op.example/realm',
          token_endpoint: 'https://op.example/realm/token',
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
        })
      }
      return json(200, { token_type: 'Bearer', expires_in: 3600, access_token: 'at' })
    },
  }
  const cca = new ConfidentialClientApplication({
    clientId: 'my app',
    oidcAuthority: 'https://op.example/realm',
    clientCredential: 's3cr:t',
    httpClient: http,
  })
  await cca.acquireTokenForClient(['api://x/.default'])
  const post = requests.find((r) => r.method === 'POST')
  assert.equal(post?.form?.['client_secret'], undefined)
  assert.equal(
    post?.headers?.['authorization'],
    `Basic ${Buffer.from('my+app:s3cr%3At').toString('base64')}`,
  )
})

test('refreshing at a generic OpenID provider leaves offline_access out of the scope', async () => {
  const requests: HttpRequest[] = []
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      if (req.method === 'GET') {
        return json(200, {
          issuer: 'http://127.0.0.1:9/op',
          token_endpoint: 'http://127.0.0.1:9/op/token',
        })
      }
      return json(200, {
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: 'new',
        scope: 'api://demo/read openid profile',
      })
    },
  }
  const store = memoryStore()
  await store.withLock(() =>
    store.write({
      Account: {
        a: {
          home_account_id: 'alice',
          environment: '127.0.0.1',
          realm: '',
          local_account_id: 'alice',
          username: 'alice',
          authority_type: 'MSSTS',
        },
      },
      RefreshToken: {
        r: {
          credential_type: 'RefreshToken',
          secret: 'rt',
          home_account_id: 'alice',
          environment: '127.0.0.1',
          client_id: 'app',
          target: 'api://demo/read',
        },
      },
      AppMetadata: { m: { client_id: 'app', environment: '127.0.0.1' } },
    }),
  )
  const pca = new PublicClientApplication({
    clientId: 'app',
    oidcAuthority: 'http://127.0.0.1:9/op',
    httpClient: http,
    cacheStore: store,
  })
  const [account] = await pca.getAccounts()
  assert.ok(account)
  const result = await pca.acquireTokenSilentWithError(['api://demo/read'], account)
  assert.equal(result?.access_token, 'new')
  assert.equal(
    requests.find((r) => r.method === 'POST')?.form?.['scope'],
    'api://demo/read openid profile',
  )
})
