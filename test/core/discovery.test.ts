/**
 * Discovery answers are untrusted (issue #15): the OIDC issuer rules MSAL adopted in 2025-26,
 * each field's type and URL scheme, instance discovery's shape, and that a refused document is
 * not kept in the HTTP cache. Device code answers are checked the same way.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createHash } from 'node:crypto'
import { parseAuthority } from '../../src/core/authority/authority.js'
import { discoverEndpoints, type Endpoints } from '../../src/core/authority/discovery.js'
import { isSafeUrl } from '../../src/core/http/endpoint-url.js'
import { RuntimeFailure } from '../../src/core/kernel/errors.js'
import { withHttpCache } from '../../src/core/http/cache.js'
import { shareableEntries, withLocalEntries } from '../../src/core/http/cache-entries.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/core/http/types.js'
import { issuerMatchesAuthority } from '../../src/core/authority/issuer.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'

const json = (status: number, body: unknown): Promise<HttpResponse> =>
  Promise.resolve({ status, headers: {}, body: JSON.stringify(body) })

/** An HTTP client that answers every GET with `doc` and records what was asked. */
function serving(doc: unknown): HttpClient & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = []
  return {
    requests,
    request(req) {
      requests.push(req)
      return json(200, doc)
    },
  }
}

const oidc = 'https://idp.example.com/tenant/v2.0'
const good = {
  issuer: oidc,
  authorization_endpoint: 'https://idp.example.com/tenant/authorize',
  token_endpoint: 'https://idp.example.com/tenant/token',
  device_authorization_endpoint: 'https://idp.example.com/tenant/devicecode',
  end_session_endpoint: 'https://idp.example.com/tenant/logout',
  jwks_uri: 'https://idp.example.com/tenant/keys',
  token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
  authorization_response_iss_parameter_supported: true,
}

function discover(
  doc: unknown,
  authority = parseAuthority(oidc, { oidc: true }),
  http: HttpClient = serving(doc),
): Promise<Endpoints> {
  return discoverEndpoints(http, authority, { instanceDiscovery: true, validateAuthority: true })
}

async function refused(doc: unknown, message: RegExp, authority?: string): Promise<void> {
  await assert.rejects(
    discover(doc, authority ? parseAuthority(authority, { oidc: true }) : undefined),
    (error: unknown) => {
      assert.ok(error instanceof RuntimeFailure, String(error))
      assert.match(error.message, message)
      assert.doesNotMatch(error.message, /\n/)
      return true
    },
  )
}

describe('issuer rules for --oidc-authority', () => {
  const rows: [issuer: string, authority: string, accepted: boolean, why: string][] = [
    [oidc, oidc, true, 'exact'],
    [`${oidc}/`, oidc, true, 'exact, trailing slash on the issuer'],
    [oidc, `${oidc}/`, true, 'exact, trailing slash on the authority'],
    ['https://idp.example.com/other', oidc, true, 'same scheme and host, another path'],
    [
      'https://login.microsoftonline.com/{tenantid}/v2.0',
      'https://login.microsoftonline.com/common/v2.0',
      true,
      "Entra's multi-tenant placeholder issuer on the authority's host",
    ],
    ['https://idp.example.com:8443/tenant/v2.0', oidc, false, 'another port is another host'],
    ['http://idp.example.com/tenant/v2.0', oidc, false, 'http is another scheme'],
    ['https://evil.example/tenant/v2.0', oidc, false, 'a foreign host'],
    ['https://idp.example.com.evil.example/t', oidc, false, 'the authority host as a prefix'],
    ['https://127.0.0.1:4000/t/v2.0', 'https://127.0.0.1:4000/t/v2.0', true, 'loopback exact'],
    [
      'https://127.0.0.1:4001/t/v2.0',
      'https://127.0.0.1:4000/t/v2.0',
      false,
      'loopback, other port',
    ],
    ['http://127.0.0.1:4000/t', 'http://127.0.0.1:4000/t/v2.0', true, 'loopback http, same host'],
    // Well-known Microsoft hosts.
    [
      'https://login.microsoftonline.com/ebdf0e4c/v2.0',
      'https://clientlogin.contoso.com/ebdf0e4c/v2.0',
      true,
      'a custom domain fronting Entra',
    ],
    ['https://sts.windows.net/t/', 'https://login.contoso.com/t', true, 'sts.windows.net'],
    ['https://westus2.login.microsoft.com/t/v2.0', 'https://login.contoso.com/t', true, 'regional'],
    [
      'https://login.microsoftonline.us/t/v2.0',
      'https://login.microsoftonline.us/t/v2.0/x',
      true,
      'same sovereign cloud (same host)',
    ],
    [
      'https://login.usgovcloudapi.net/t/v2.0',
      'https://login.microsoftonline.us/t/v2.0',
      true,
      'same sovereign cloud, another alias',
    ],
    [
      'https://login.chinacloudapi.cn/t/v2.0',
      'https://login.microsoftonline.com/t/v2.0',
      false,
      'another sovereign cloud',
    ],
    ['http://login.microsoftonline.com/t/v2.0', 'https://login.contoso.com/t', false, 'http MS'],
    ['https://login.microsoftonline.com.evil.example/t', 'https://x.example/t', false, 'lookalike'],
    [
      'https://evil.login.microsoftonline.com.example/t',
      'https://x.example/t',
      false,
      'lookalike 2',
    ],
    ['https://a.b.login.microsoft.com/t', 'https://x.example/t', false, 'two labels of region'],
    // CIAM.
    [
      'https://contoso.ciamlogin.com/contoso/v2.0',
      'https://login.contoso.com/contoso',
      true,
      'CIAM custom domain, tenant in the path',
    ],
    [
      'https://contoso.ciamlogin.com/',
      'https://contoso.example.com',
      true,
      'CIAM, tenant from the authority host',
    ],
    [
      'https://contoso.ciamlogin.com/contoso',
      'https://login.contoso.com/contoso/v2.0',
      true,
      'CIAM, /tenant path',
    ],
    [
      'https://fabrikam.ciamlogin.com/fabrikam/v2.0',
      'https://login.contoso.com/contoso',
      false,
      'CIAM issuer of another tenant',
    ],
    [
      'https://contoso.ciamlogin.com/other/v2.0',
      'https://login.contoso.com/contoso',
      false,
      'CIAM, path of another tenant',
    ],
    [
      'https://contoso.ciamlogin.com/contoso/v2.0',
      'https://login.microsoftonline.com/contoso',
      true,
      'CIAM tenant on an Entra authority (tenant matches)',
    ],
    [
      'https://contoso.ciamlogin.com/guid/v2.0',
      'https://login.microsoftonline.com/other',
      false,
      'CIAM cannot ride on the public cloud rule',
    ],
    // B2C and regional hosts of the authority.
    [
      'https://contoso.b2clogin.com/tfp/guid/b2c_1_signin/v2.0/',
      'https://login.contoso.com/contoso',
      true,
      'a B2C tenant host',
    ],
    ['https://b2clogin.com/x', 'https://login.contoso.com/contoso', false, 'bare B2C suffix'],
    ['https://eu.login.contoso.com/t', 'https://login.contoso.com/t', true, 'regional authority'],
    ['https://eu.evil.example/t', 'https://login.contoso.com/t', false, 'regional elsewhere'],
    ['not a url', oidc, false, 'not a URL'],
    ['javascript:alert(1)', oidc, false, 'a script'],
  ]
  for (const [issuer, authority, accepted, why] of rows) {
    test(`${accepted ? 'accepts' : 'refuses'} ${issuer} for ${authority}: ${why}`, () => {
      assert.equal(issuerMatchesAuthority(issuer, authority), accepted)
    })
  }
})

describe('OpenID configuration', () => {
  test('a good document: every field kept', async () => {
    const endpoints = await discover(good)
    assert.equal(endpoints.issuer, oidc)
    assert.equal(endpoints.tokenEndpoint, good.token_endpoint)
    assert.equal(endpoints.jwksUri, good.jwks_uri)
    assert.deepEqual(endpoints.tokenEndpointAuthMethods, ['client_secret_post', 'private_key_jwt'])
    assert.equal(endpoints.issInAuthorizationResponse, true)
    assert.equal(endpoints.realm, 'tenant')
  })

  test('a foreign issuer is refused, naming both issuers', async () => {
    await refused(
      { ...good, issuer: 'https://evil.example/v2.0' },
      /^the OpenID configuration at \S+ names the issuer "https:\/\/evil\.example\/v2\.0", which does not match the authority "https:\/\/idp\.example\.com\/tenant\/v2\.0"/,
    )
  })

  test('an OIDC authority on a Microsoft host keeps its endpoints in that cloud', async () => {
    const entra = 'https://login.microsoftonline.com/t/v2.0'
    const doc = {
      issuer: entra,
      token_endpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
      authorization_endpoint: 'https://login.microsoft.com/t/oauth2/v2.0/authorize',
    }
    await discover(doc, parseAuthority(entra, { oidc: true }))
    await refused(
      { ...doc, token_endpoint: 'https://evil.example/token' },
      /names the token_endpoint "https:\/\/evil\.example\/token", outside the Microsoft cloud/,
      entra,
    )
    await refused(
      { ...doc, authorization_endpoint: 'https://login.chinacloudapi.cn/t/authorize' },
      /names the authorization_endpoint .*, outside the Microsoft cloud/,
      entra,
    )
  })

  test('an OIDC document without an issuer is refused', async () => {
    await refused({ ...good, issuer: undefined }, /names no issuer/)
  })

  test('Entra authorities keep their {tenantid} issuer and are not held to the OIDC rules', async () => {
    const entra = parseAuthority('https://login.microsoftonline.com/common')
    const endpoints = await discover(
      {
        issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
        token_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
        authorization_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      },
      entra,
    )
    assert.equal(endpoints.realm, 'common')
    const ciam = parseAuthority('https://contoso.ciamlogin.com/contoso.onmicrosoft.com')
    const guid = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'
    await discover(
      {
        issuer: `https://${guid}.ciamlogin.com/${guid}/v2.0`,
        token_endpoint: `https://contoso.ciamlogin.com/${guid}/oauth2/v2.0/token`,
      },
      ciam,
    )
  })

  const badFields: [string, unknown, RegExp][] = [
    ['issuer', 42, /issuer is not a string/],
    [
      'token_endpoint',
      'http://idp.example.com/token',
      /token_endpoint is not an https URL \("http:\/\/idp\.example\.com"/,
    ],
    ['token_endpoint', ['https://idp.example.com/token'], /token_endpoint is not a string/],
    ['token_endpoint', 'not a url', /token_endpoint is not an https URL \(not a URL/],
    [
      'authorization_endpoint',
      'javascript:alert(1)',
      /authorization_endpoint is not an https URL \(scheme "javascript:"/,
    ],
    [
      'authorization_endpoint',
      'data:text/html,hi',
      /authorization_endpoint is not an https URL \(scheme "data:"/,
    ],
    [
      'authorization_endpoint',
      'https://login.microsoftonline.com@evil.example/',
      /authorization_endpoint is not an https URL/,
    ],
    ['device_authorization_endpoint', 'http://evil.example/dc', /device_authorization_endpoint/],
    ['end_session_endpoint', 'file:///etc/passwd', /end_session_endpoint/],
    ['jwks_uri', 'ftp://idp.example.com/keys', /jwks_uri/],
    ['jwks_uri', {}, /jwks_uri is not a string/],
    ['token_endpoint_auth_methods_supported', 'client_secret_post', /not an array of strings/],
    ['token_endpoint_auth_methods_supported', ['client_secret_post', 1], /not an array of strings/],
    ['authorization_response_iss_parameter_supported', 'true', /is not true or false/],
  ]
  for (const [name, value, message] of badFields) {
    test(`${name} = ${JSON.stringify(value)} is refused`, async () => {
      await refused({ ...good, [name]: value }, message)
    })
  }

  test('null optional fields are absent; a missing token endpoint is refused', async () => {
    const endpoints = await discover({ ...good, end_session_endpoint: null, jwks_uri: null })
    assert.equal(endpoints.endSessionEndpoint, undefined)
    assert.equal(endpoints.jwksUri, undefined)
    await refused({ ...good, token_endpoint: undefined }, /has no token_endpoint/)
  })

  test('loopback http endpoints are fine for a local provider', async () => {
    const local = 'http://127.0.0.1:8080/t'
    const endpoints = await discover(
      { issuer: local, token_endpoint: `${local}/token`, authorization_endpoint: `${local}/a` },
      parseAuthority(local, { oidc: true }),
    )
    assert.equal(endpoints.tokenEndpoint, `${local}/token`)
  })

  test('a refused document is not kept in the HTTP cache; a good one is', async () => {
    const store = memoryStore()
    let doc: unknown = { ...good, issuer: 'https://evil.example' }
    const inner = serving(undefined)
    inner.request = (req) => {
      inner.requests.push(req)
      return json(200, doc)
    }
    const cached = () => withHttpCache(inner, { store, clock: () => 1000, log: () => undefined })
    const authority = parseAuthority(oidc, { oidc: true })
    await assert.rejects(discover(undefined, authority, cached()), /does not match/)
    doc = good
    await discover(undefined, authority, cached())
    await discover(undefined, authority, cached())
    assert.equal(inner.requests.length, 2, 'asked again after the refusal, then served from cache')
  })

  test('a kept document that fails the checks (written by another) is asked afresh and replaced, not a lasting failure', async () => {
    const url = 'https://idp.example.com/tenant/v2.0/.well-known/openid-configuration'
    const bad = { ...good, token_endpoint: 42 }
    const store = memoryStore()
    await store.write({
      version: 1,
      entries: {
        [`GET ${url}`]: {
          expires: 4e9,
          response: { status: 200, headers: {}, body: JSON.stringify(bad) },
        },
      },
    })
    const inner = serving(good)
    const cached = () => withHttpCache(inner, { store, clock: () => 1000, log: () => undefined })
    assert.equal(
      (await discover(undefined, undefined, cached())).tokenEndpoint,
      good.token_endpoint,
    )
    await discover(undefined, undefined, cached())
    assert.equal(inner.requests.length, 1, 'asked once, then served from the replaced entry')
  })

  test('a kept answer to a POST is replayed only when it asked to wait, never a planted token', async () => {
    const url = 'https://idp.example.com/tenant/oauth2/v2.0/token'
    const form = { grant_type: 'client_credentials', client_id: 'app', scope: 'api://x/.default' }
    const key = `POST ${url} client_id=app scope=api://x/.default hash=${createHash('sha256').update('').digest('base64url')}`
    const planted = (status: number) => ({
      version: 1,
      entries: {
        [key]: {
          expires: 4e9,
          response: { status, headers: {}, body: JSON.stringify({ access_token: 'FORGED' }) },
        },
      },
    })
    for (const [status, replayed] of [
      [200, false],
      [429, true],
    ] as const) {
      const store = memoryStore()
      await store.write(planted(status))
      const inner = serving({ access_token: 'REAL', token_type: 'Bearer', expires_in: 3600 })
      const cached = withHttpCache(inner, { store, clock: () => 1000, log: () => undefined })
      const answer = await cached.request({ method: 'POST', url, form })
      assert.equal(inner.requests.length, replayed ? 0 : 1, `status ${status}`)
      const token = (JSON.parse(answer.body) as { access_token: string }).access_token
      assert.equal(token, replayed ? 'FORGED' : 'REAL')
    }
  })

  test('only documents whose endpoints are on the origin they were asked from are shared', () => {
    const url = 'https://idp.example.com/tenant/v2.0/.well-known/openid-configuration'
    const entry = (doc: unknown) => ({
      expires: 4e9,
      response: { status: 200, headers: {}, body: JSON.stringify(doc) },
    })
    const elsewhere = { ...good, token_endpoint: 'https://idp.example.com:8443/tenant/token' }
    const other = 'https://other.example.com/.well-known/openid-configuration'
    const local = {
      version: 1,
      entries: { [`GET ${url}`]: entry(good), [`GET ${other}`]: entry(elsewhere) },
    }
    assert.deepEqual(Object.keys(shareableEntries(local)?.['entries'] ?? {}), [`GET ${url}`])
    const remote = { version: 1, entries: { [`GET ${url}`]: entry(elsewhere) } }
    assert.deepEqual(shareableEntries(remote)?.['entries'], {}, 'a rewritten document is dropped')
    assert.deepEqual(
      Object.keys(withLocalEntries(shareableEntries(remote), local)?.['entries'] ?? {}),
      [`GET ${other}`],
      'the unshared document stays available from the local copy',
    )
  })
})

describe('instance discovery answers', () => {
  const custom = parseAuthority('https://login.contoso.com/t')
  const run = (answer: Record<string, unknown>) => {
    const http: HttpClient = {
      request(req) {
        return req.url.includes('/discovery/instance')
          ? json(200, answer)
          : json(200, { token_endpoint: 'https://login.contoso.com/t/token' })
      },
    }
    return discoverEndpoints(http, custom, { instanceDiscovery: true, validateAuthority: true })
  }

  test('a good answer leads to the tenant discovery endpoint', async () => {
    const endpoints = await run({
      tenant_discovery_endpoint:
        'https://login.contoso.com/t/v2.0/.well-known/openid-configuration',
      metadata: [{ preferred_network: 'a', preferred_cache: 'a', aliases: ['a', 'b'] }],
    })
    assert.equal(endpoints.realm, 't')
  })

  for (const [what, answer, message] of [
    [
      'a plain-http endpoint',
      { tenant_discovery_endpoint: 'http://evil.example/x' },
      /not an https URL/,
    ],
    ['a number', { tenant_discovery_endpoint: 7 }, /without a tenant discovery endpoint/],
    [
      'metadata that is not an array',
      { tenant_discovery_endpoint: 'https://x.example/c', metadata: { aliases: [] } },
      /metadata is not a list/,
    ],
    [
      'aliases that are not strings',
      { tenant_discovery_endpoint: 'https://x.example/c', metadata: [{ aliases: [1] }] },
      /metadata is not a list/,
    ],
  ] as const) {
    test(`${what} is refused`, async () => {
      await assert.rejects(run(answer), message)
    })
  }
})

test('isSafeUrl: https anywhere, http on loopback only, nothing else', () => {
  for (const ok of [
    'https://a.example/x',
    'http://127.0.0.1:9/x',
    'http://localhost/x',
    'http://[::1]/',
  ]) {
    assert.equal(isSafeUrl(ok), true, ok)
  }
  for (const bad of [
    'http://a.example/x',
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,x',
    'file:///etc/passwd',
    'https://user:pw@a.example/',
    '//a.example/x',
    '',
  ]) {
    assert.equal(isSafeUrl(bad), false, bad)
  }
})

describe('device authorization answers', () => {
  const authority = 'https://login.microsoftonline.com/t'
  const endpoints = {
    issuer: 'https://login.microsoftonline.com/t/v2.0',
    token_endpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
    device_authorization_endpoint: 'https://login.microsoftonline.com/t/oauth2/v2.0/devicecode',
  }
  const answer = {
    device_code: 'dc',
    user_code: 'UC',
    verification_uri: 'https://microsoft.com/devicelogin',
    expires_in: 900,
    interval: 5,
    message: 'go',
  }
  const flowFor = (body: Record<string, unknown>) => {
    const http: HttpClient = {
      request: (req) => (req.method === 'GET' ? json(200, endpoints) : json(200, body)),
    }
    const app = new PublicClientApplication({ clientId: 'c', authority, httpClient: http })
    return app.initiateDeviceFlow(['User.Read'])
  }

  for (const [interval, expected] of [
    [5, 5],
    [0.01, 1],
    [0.5, 1],
    [-1, 5],
    [0, 5],
    ['junk', 5],
    ['7', 7],
    [undefined, 5],
    [null, 5],
    [{}, 5],
  ] as const) {
    test(`interval ${JSON.stringify(interval)} polls every ${expected} s`, async () => {
      const flow = await flowFor({ ...answer, interval })
      assert.equal(flow.interval, expected)
    })
  }

  for (const [what, change, message] of [
    ['expires_in 0', { expires_in: 0 }, /expires_in 0 is not/],
    ['expires_in -5', { expires_in: -5 }, /expires_in -5 is not/],
    ['expires_in junk', { expires_in: 'junk' }, /expires_in "junk" is not/],
    ['expires_in a year', { expires_in: 31_536_000 }, /expires_in 31536000 is not/],
    ['no device_code', { device_code: undefined }, /no device_code/],
    ['a numeric user_code', { user_code: 7 }, /no user_code/],
    ['a javascript: verification_uri', { verification_uri: 'javascript:x' }, /verification_uri/],
    ['an http verification_uri', { verification_uri: 'http://evil.example' }, /verification_uri/],
    ['a bad verification_uri_complete', { verification_uri_complete: 'data:x' }, /_complete/],
    ['a message object', { message: { text: 'hi' } }, /message is not a string/],
  ] as const) {
    test(`${what} is refused`, async () => {
      await assert.rejects(flowFor({ ...answer, ...change }), (error: unknown) => {
        assert.ok(error instanceof RuntimeFailure, String(error))
        assert.match(error.message, message)
        return true
      })
    })
  }

  test("Entra v1's verification_url and a missing expires_in (1800 s) are taken", async () => {
    const flow = await flowFor({
      ...answer,
      verification_uri: undefined,
      verification_url: 'https://aka.ms/devicelogin',
      expires_in: undefined,
    })
    assert.equal(flow.verification_uri, 'https://aka.ms/devicelogin')
    assert.equal(flow.expires_in, 1800)
  })
})
