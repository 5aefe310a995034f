// Self-tests of the Entra-shaped test STS (test/fixtures/sts): each endpoint, grant and fault kind.
import assert from 'node:assert/strict'
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'

import {
  createLocalJWKSet,
  decodeJwt,
  importPKCS8,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose'
import { Agent, fetch, type Response } from 'undici'

import { makeClientCertificate, type ClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts, type StsSettings } from '../fixtures/sts/index.js'

let sts: Sts
let dispatcher: Agent
let dir: string
let cert: ClientCertificate
let initialSettings: StsSettings

const graphScopes = 'https://graph.microsoft.com/User.Read openid profile offline_access'
const certClientId = 'c3c3c3c3-0000-4000-8000-000000000001'
const redirectUri = 'http://localhost:4321'

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sts-test-'))
  cert = makeClientCertificate(dir, 'app', { passphrase: 'pass phrase' })
  sts = await startSts()
  dispatcher = new Agent({ connect: { ca: sts.caPem } })
  initialSettings = structuredClone(sts.settings)
  // The combined key + certificate file, as users hold it: only the certificate is read.
  sts.addClient({ clientId: certClientId, certificatePem: readFileSync(cert.pemFile, 'utf8') })
})

after(async () => {
  await dispatcher.close()
  await sts.close()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  sts.clearFaults()
  sts.clearLog()
  sts.settings = structuredClone(initialSettings)
})

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${sts.url}${path}`, { dispatcher, redirect: 'manual', headers })
}

async function post(
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return fetch(`${sts.url}${path}`, {
    dispatcher,
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  })
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

const tokenPath = (tenant = sts.tenantId) => `/${tenant}/oauth2/v2.0/token`

async function token(form: Record<string, string>, tenant?: string) {
  const response = await post(tokenPath(tenant), form)
  return { status: response.status, body: await json(response) }
}

function assertEntraError(body: Record<string, unknown>, error: string, code: number): void {
  assert.equal(body.error, error, JSON.stringify(body))
  assert.deepEqual(body.error_codes, [code])
  assert.match(
    String(body.error_description),
    new RegExp(
      `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: \\S+\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
    ),
  )
  assert.equal(body.error_uri, `${sts.url}/error?code=${code}`)
  assert.equal(typeof body.trace_id, 'string')
  assert.equal(typeof body.timestamp, 'string')
}

describe('pki', () => {
  test('client certificate files, forms and thumbprints', () => {
    const x509 = new X509Certificate(cert.certPem)
    assert.equal(cert.thumbprintSha1Hex, x509.fingerprint.replaceAll(':', '').toLowerCase())
    assert.equal(cert.thumbprintSha256Hex, x509.fingerprint256.replaceAll(':', '').toLowerCase())
    assert.match(cert.keyPem, /^-----BEGIN PRIVATE KEY-----/)
    assert.equal(readFileSync(cert.pemFile, 'utf8'), cert.keyPem + cert.certPem)
    assert.match(cert.encryptedKeyPem ?? '', /^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    assert.ok(cert.encryptedPemFile !== undefined && existsSync(cert.encryptedPemFile))
    const key = createPrivateKey({ key: cert.encryptedKeyPem ?? '', passphrase: 'pass phrase' })
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048)
  })

  test('the server certificate is only trusted with the test CA', async () => {
    await assert.rejects(fetch(`${sts.url}/common/v2.0/.well-known/openid-configuration`))
    assert.equal((await get('/common/v2.0/.well-known/openid-configuration')).status, 200)
  })
})

describe('discovery', () => {
  test('instance discovery names the tenant discovery endpoint of the authority', async () => {
    const endpoint = `${sts.url}/organizations/oauth2/v2.0/authorize`
    const response = await get(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(endpoint)}`,
    )
    const body = await json(response)
    assert.equal(response.status, 200)
    assert.equal(
      body.tenant_discovery_endpoint,
      `${sts.url}/organizations/v2.0/.well-known/openid-configuration`,
    )
    assert.deepEqual(body.metadata, [
      { preferred_network: sts.host, preferred_cache: sts.host, aliases: [sts.host] },
    ])
  })

  test('instance discovery refuses an unknown host', async () => {
    const endpoint = 'https://login.example.net/common/oauth2/v2.0/authorize'
    const response = await get(
      `/common/discovery/instance?api-version=1.0&authorization_endpoint=${encodeURIComponent(endpoint)}`,
    )
    assert.equal(response.status, 400)
    assertEntraError(await json(response), 'invalid_instance', 50049)
  })

  test('tenant discovery per tenant kind', async () => {
    const cases: [string, string, string][] = [
      [sts.tenantId, `${sts.url}/${sts.tenantId}/v2.0`, sts.tenantId],
      [sts.tenantDomain, `${sts.url}/${sts.tenantId}/v2.0`, sts.tenantId],
      ['common', `${sts.url}/{tenantid}/v2.0`, 'common'],
      ['organizations', `${sts.url}/{tenantid}/v2.0`, 'organizations'],
      ['consumers', `${sts.url}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0`, 'consumers'],
    ]
    for (const [tenant, issuer, tokenSegment] of cases) {
      const body = await json(await get(`/${tenant}/v2.0/.well-known/openid-configuration`))
      assert.equal(body.issuer, issuer)
      assert.equal(body.token_endpoint, `${sts.url}/${tokenSegment}/oauth2/v2.0/token`)
      assert.equal(body.authorization_endpoint, `${sts.url}/${tokenSegment}/oauth2/v2.0/authorize`)
      assert.equal(
        body.device_authorization_endpoint,
        `${sts.url}/${tokenSegment}/oauth2/v2.0/devicecode`,
      )
      assert.equal(body.jwks_uri, `${sts.url}/${tokenSegment}/discovery/v2.0/keys`)
      assert.deepEqual(body.response_modes_supported, ['query', 'fragment', 'form_post'])
      assert.deepEqual(body.id_token_signing_alg_values_supported, ['RS256'])
    }
  })

  test("MSAL's doubled slash after a trailing-slash authority still resolves", async () => {
    assert.equal(
      (await get(`/${sts.tenantDomain}//v2.0/.well-known/openid-configuration`)).status,
      200,
    )
  })

  test('an unknown tenant is AADSTS90002', async () => {
    const response = await get('/nosuchtenant.example/v2.0/.well-known/openid-configuration')
    assert.equal(response.status, 400)
    assertEntraError(await json(response), 'invalid_tenant', 90002)
    const tokenResponse = await post('/nosuchtenant.example/oauth2/v2.0/token', {
      grant_type: 'client_credentials',
    })
    assertEntraError(await json(tokenResponse), 'invalid_request', 90002)
  })

  test('ADFS discovery', async () => {
    const body = await json(await get('/adfs/.well-known/openid-configuration'))
    assert.equal(body.token_endpoint, `${sts.url}/adfs/oauth2/token`)
    assert.equal(body.issuer, `${sts.url}/adfs`)
  })

  test('JWKS verifies issued tokens', async () => {
    const jwks = (await json(
      await get(`/${sts.tenantId}/discovery/v2.0/keys`),
    )) as unknown as JSONWebKeySet
    assert.equal(typeof jwks.keys[0]?.kid, 'string')
    const { body } = await token(secretForm())
    const { payload, protectedHeader } = await jwtVerify(
      String(body.access_token),
      createLocalJWKSet(jwks),
    )
    assert.equal(protectedHeader.kid, jwks.keys[0]?.kid)
    assert.equal(payload.aud, 'https://graph.microsoft.com')
  })

  test('user realm', async () => {
    sts.addUser({ username: 'fed@contoso.com', password: 'x', federated: true })
    const managed = await json(
      await get(`/common/userrealm/${sts.defaults.username}?api-version=1.0`),
    )
    assert.equal(managed.account_type, 'Managed')
    const federated = await json(await get('/common/userrealm/fed@contoso.com?api-version=1.0'))
    assert.equal(federated.account_type, 'Federated')
    assert.equal(federated.federation_protocol, 'WSTrust')
    assert.equal(typeof federated.federation_metadata_url, 'string')
    const unknown = await json(await get('/common/userrealm/who@nowhere.example?api-version=1.0'))
    assert.equal(unknown.account_type, 'Unknown')
  })
})

function secretForm(extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_id: sts.defaults.confidentialClientId,
    client_secret: sts.defaults.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
    client_info: '1',
    ...extra,
  }
}

describe('client credentials', () => {
  test('secret: Entra answer shape, unique tokens', async () => {
    const first = await token(secretForm())
    const second = await token(secretForm())
    assert.equal(first.status, 200)
    assert.deepEqual(Object.keys(first.body).sort(), [
      'access_token',
      'expires_in',
      'ext_expires_in',
      'token_type',
    ])
    assert.equal(first.body.token_type, 'Bearer')
    assert.equal(first.body.expires_in, 3600)
    const claims = decodeJwt(String(first.body.access_token))
    assert.equal(claims.tid, sts.tenantId)
    assert.equal(claims.appid, sts.defaults.confidentialClientId)
    assert.equal(claims.iss, `${sts.url}/${sts.tenantId}/v2.0`)
    assert.notEqual(first.body.access_token, second.body.access_token)
  })

  test('settings change lifetimes and add refresh_in', async () => {
    sts.settings.accessTokenLifetime = 120
    sts.settings.refreshIn = 60
    const { body } = await token(secretForm())
    assert.equal(body.expires_in, 120)
    assert.equal(body.refresh_in, 60)
    const claims = decodeJwt(String(body.access_token))
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 120)
  })

  test('credential and scope errors', async () => {
    const bad = await post(tokenPath(), secretForm({ client_secret: 'wrong' }), {
      'client-request-id': 'corr-123',
    })
    assert.equal(bad.status, 401)
    assert.equal(bad.headers.get('client-request-id'), 'corr-123')
    const badBody = await json(bad)
    assertEntraError(badBody, 'invalid_client', 7000215)
    assert.equal(badBody.correlation_id, 'corr-123')

    const noSecret = secretForm()
    delete noSecret.client_secret
    assertEntraError((await token(noSecret)).body, 'invalid_client', 7000218)
    const unknown = await token(secretForm({ client_id: '00000000-0000-0000-0000-00000000dead' }))
    assert.equal(unknown.status, 400)
    assertEntraError(unknown.body, 'unauthorized_client', 700016)
    assertEntraError(
      (await token(secretForm({ scope: 'User.Read' }))).body,
      'invalid_scope',
      1002012,
    )
    assertEntraError((await token(secretForm(), 'common')).body, 'invalid_request', 50059)
    assertEntraError(
      (await token({ ...secretForm(), grant_type: 'magic' })).body,
      'unsupported_grant_type',
      70003,
    )
    const wrongMethod = await get(tokenPath())
    assertEntraError(await json(wrongMethod), 'invalid_request', 900561)
  })
})

interface AssertionOptions {
  alg?: 'RS256' | 'PS256'
  header?: Record<string, unknown>
  claims?: Record<string, unknown>
}

async function assertion(options: AssertionOptions = {}): Promise<string> {
  const alg = options.alg ?? 'RS256'
  const key = await importPKCS8(cert.keyPem, alg)
  const sha1 = Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64') // MSAL's padded form
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    aud: `${sts.url}${tokenPath()}`,
    iss: certClientId,
    sub: certClientId,
    jti: randomBytes(8).toString('hex'),
    iat: now,
    exp: now + 600,
    ...options.claims,
  })
    .setProtectedHeader({
      alg,
      typ: 'JWT',
      x5t: sha1.replaceAll('+', '-').replaceAll('/', '_'),
      ...options.header,
    })
    .sign(key)
}

function assertionForm(jwt: string): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_id: certClientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
    scope: 'api://resource/.default',
  }
}

describe('client assertion', () => {
  test('RS256 with padded x5t is accepted and logged', async () => {
    const result = await token(assertionForm(await assertion({ claims: { custom: 'yes' } })))
    assert.equal(result.status, 200, JSON.stringify(result.body))
    const [entry] = sts.tokenRequests()
    assert.equal(entry?.assertion?.valid, true)
    assert.match(String(entry?.assertion?.header.x5t), /=$/)
    assert.equal(entry?.assertion?.payload.custom, 'yes')
    assert.equal(decodeJwt(String(result.body.access_token)).aud, 'api://resource')
  })

  test('PS256 with x5t#S256 and x5c (line breaks kept) is accepted', async () => {
    const der = new X509Certificate(cert.certPem).raw.toString('base64')
    const x5c = [der.replace(/(.{64})/g, '$1\n')]
    const x5tS256 = Buffer.from(cert.thumbprintSha256Hex, 'hex').toString('base64url')
    const jwt = await assertion({
      alg: 'PS256',
      header: { x5t: undefined, 'x5t#S256': x5tS256, x5c },
    })
    const result = await token(assertionForm(jwt))
    assert.equal(result.status, 200, JSON.stringify(result.body))
    assert.deepEqual(sts.tokenRequests()[0]?.assertion?.header.x5c, x5c)
  })

  test('replay, audience, thumbprint, expiry, issuer and signature failures', async () => {
    const jwt = await assertion()
    assert.equal((await token(assertionForm(jwt))).status, 200)
    const failures = [
      jwt,
      await assertion({ claims: { aud: `${sts.url}/common/oauth2/v2.0/token` } }),
      await assertion({ header: { x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' } }),
      await assertion({ header: { x5t: undefined } }),
      await assertion({ header: { x5c: ['AAAA'] } }),
      await assertion({ claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }),
      await assertion({ claims: { exp: Math.floor(Date.now() / 1000) + 86400 } }),
      await assertion({ claims: { iss: 'someone-else' } }),
      await assertion({ claims: { jti: undefined } }),
      `${jwt.slice(0, jwt.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`,
    ]
    for (const bad of failures) {
      const result = await token(assertionForm(bad))
      assert.equal(result.status, 401)
      assertEntraError(result.body, 'invalid_client', 700027)
    }
    const reasons = sts
      .tokenRequests()
      .slice(1)
      .map((entry) => entry.assertion?.failure)
    assert.match(String(reasons[0]), /replay/)
    assert.match(String(reasons[1]), /aud/)
    assert.ok(reasons.every((reason) => typeof reason === 'string'))
  })
})

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

async function authorize(
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const { verifier, challenge } = pkce()
  const query = new URLSearchParams({
    client_id: sts.defaults.publicClientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: graphScopes,
    state: 'st4te',
    nonce: 'n0nce',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    client_info: '1',
    ...params,
  })
  const response = await get(`/organizations/oauth2/v2.0/authorize?${query.toString()}`, headers)
  const location = response.headers.get('location')
  return { response, verifier, location: location === null ? undefined : new URL(location) }
}

function redeemForm(code: string, verifier: string, extra: Record<string, string> = {}) {
  return {
    grant_type: 'authorization_code',
    client_id: sts.defaults.publicClientId,
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    scope: graphScopes,
    client_info: '1',
    ...extra,
  }
}

describe('authorization code', () => {
  test('auto consent, redemption with PKCE, single use', async () => {
    const { response, verifier, location } = await authorize()
    assert.equal(response.status, 302)
    assert.equal(location?.origin, redirectUri)
    assert.equal(location?.searchParams.get('state'), 'st4te')
    const code = location?.searchParams.get('code') ?? ''
    const result = await token(redeemForm(code, verifier), 'organizations')
    assert.equal(result.status, 200, JSON.stringify(result.body))
    assert.equal(result.body.scope, graphScopes)
    assert.equal(typeof result.body.refresh_token, 'string')
    const info = JSON.parse(
      Buffer.from(String(result.body.client_info), 'base64url').toString(),
    ) as Record<string, string>
    assert.deepEqual(info, { uid: '9f4880d8-80ba-4c40-97bc-f7a23c703084', utid: sts.tenantId })
    const id = decodeJwt(String(result.body.id_token))
    assert.equal(id.aud, sts.defaults.publicClientId)
    assert.equal(id.nonce, 'n0nce')
    assert.equal(id.preferred_username, sts.defaults.username)
    assert.equal(id.ver, '2.0')
    assert.equal(typeof id.auth_time, 'number')
    assert.equal(decodeJwt(String(result.body.access_token)).scp, 'User.Read')

    assertEntraError(
      (await token(redeemForm(code, verifier), 'organizations')).body,
      'invalid_grant',
      54005,
    )
  })

  test('wrong verifier and redirect URI are refused', async () => {
    const first = await authorize()
    const code = first.location?.searchParams.get('code') ?? ''
    assertEntraError((await token(redeemForm(code, pkce().verifier))).body, 'invalid_grant', 501481)
    assertEntraError(
      (await token(redeemForm(code, first.verifier, { redirect_uri: 'http://localhost:1' }))).body,
      'invalid_grant',
      500112,
    )
  })

  test('response modes: fragment and form_post', async () => {
    const fragment = await authorize({ response_mode: 'fragment' })
    assert.match(fragment.location?.hash ?? '', /^#code=.+&state=st4te/)
    const formPost = await authorize({ response_mode: 'form_post' })
    assert.equal(formPost.response.status, 200)
    const html = await formPost.response.text()
    assert.match(html, new RegExp(`<form method="POST" name="hiddenform" action="${redirectUri}">`))
    assert.match(html, /name="code" value="[^"]+"/)
    assert.match(html, /name="state" value="st4te"/)
  })

  test('negative settings: forced error, wrong state, prompt=none, bad redirect', async () => {
    sts.settings.authorizeError = { error: 'access_denied', error_description: 'the user said no' }
    const denied = await authorize()
    assert.equal(denied.location?.searchParams.get('error'), 'access_denied')
    assert.equal(denied.location?.searchParams.get('state'), 'st4te')
    sts.settings.authorizeError = undefined

    sts.settings.authorizeWrongState = true
    assert.notEqual((await authorize()).location?.searchParams.get('state'), 'st4te')
    sts.settings.authorizeWrongState = false

    const silent = await authorize({ prompt: 'none' })
    assert.equal(silent.location?.searchParams.get('error'), 'login_required')
    sts.settings.sessionUser = sts.defaults.username
    assert.ok((await authorize({ prompt: 'none' })).location?.searchParams.has('code'))

    const badRedirect = await authorize({ redirect_uri: 'https://evil.example/cb' })
    assert.equal(badRedirect.response.status, 400)
    assert.match(await badRedirect.response.text(), /AADSTS50011/)
  })

  test('form mode: sign-in page, wrong password, then session for prompt=none', async () => {
    sts.settings.authorizeMode = 'form'
    const page = await authorize({ login_hint: sts.defaults.username })
    assert.equal(page.response.status, 200)
    const html = await page.response.text()
    assert.match(html, /id="submit"/)
    const txn = /name="txn" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const action = `/organizations/oauth2/v2.0/authorize`
    const wrong = await post(action, { txn, username: sts.defaults.username, password: 'nope' })
    assert.match(await wrong.text(), /id="error"/)
    const right = await post(action, {
      txn,
      username: sts.defaults.username,
      password: sts.defaults.password,
    })
    assert.equal(right.status, 302)
    assert.ok(new URL(right.headers.get('location') ?? '').searchParams.has('code'))
    const cookie = (right.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const silent = await authorize({ prompt: 'none' }, { cookie })
    assert.ok(silent.location?.searchParams.has('code'))
  })
})

describe('refresh token', () => {
  async function signIn(clientId = sts.defaults.publicClientId): Promise<string> {
    const { verifier, location } = await authorize({ client_id: clientId })
    const result = await token(
      redeemForm(location?.searchParams.get('code') ?? '', verifier, { client_id: clientId }),
    )
    return String(result.body.refresh_token)
  }

  const refreshForm = (refreshToken: string, clientId = sts.defaults.publicClientId) => ({
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
    scope: graphScopes,
    client_info: '1',
  })

  test('rotates, and revoked or unknown tokens are invalid_grant', async () => {
    const rt = await signIn()
    const next = await token(refreshForm(rt))
    assert.equal(next.status, 200)
    assert.notEqual(next.body.refresh_token, rt)
    assert.equal(decodeJwt(String(next.body.id_token)).nonce, undefined)
    assert.equal(sts.revokeRefreshTokens(sts.defaults.username) > 0, true)
    assertEntraError(
      (await token(refreshForm(String(next.body.refresh_token)))).body,
      'invalid_grant',
      700082,
    )
    assertEntraError((await token(refreshForm('not-a-token'))).body, 'invalid_grant', 70000)
  })

  test('echoScopesWithoutResource drops the Graph prefix', async () => {
    sts.settings.echoScopesWithoutResource = true
    const result = await token(refreshForm(await signIn()))
    assert.equal(result.body.scope, 'User.Read openid profile offline_access')
  })

  test('family refresh tokens work across FOCI clients only', async () => {
    sts.addClient({ clientId: 'f0c10000-0000-4000-8000-00000000000a', foci: true })
    sts.addClient({ clientId: 'f0c10000-0000-4000-8000-00000000000b', foci: true })
    const rt = await signIn('f0c10000-0000-4000-8000-00000000000a')
    const family = await token(refreshForm(rt, 'f0c10000-0000-4000-8000-00000000000b'))
    assert.equal(family.status, 200)
    assert.equal(family.body.foci, '1')
    const stranger = await token(refreshForm(rt))
    assertEntraError(stranger.body, 'invalid_grant', 70000)
    assert.equal(stranger.body.suberror, 'client_mismatch')
  })
})

describe('password grant', () => {
  const ropc = (username: string, password: string) => ({
    grant_type: 'password',
    client_id: sts.defaults.publicClientId,
    username,
    password,
    scope: graphScopes,
    client_info: '1',
  })

  test('success, wrong password, unknown and federated users', async () => {
    const ok = await token(ropc(sts.defaults.username, sts.defaults.password))
    assert.equal(ok.status, 200)
    assert.equal(typeof ok.body.id_token, 'string')
    assertEntraError(
      (await token(ropc(sts.defaults.username, 'wrong'))).body,
      'invalid_grant',
      50126,
    )
    assertEntraError(
      (await token(ropc('nobody@contoso.onmicrosoft.com', 'x'))).body,
      'invalid_grant',
      50034,
    )
    sts.addUser({ username: 'fed2@contoso.com', password: 'x', federated: true })
    assertEntraError((await token(ropc('fed2@contoso.com', 'x'))).body, 'invalid_grant', 50126)
  })

  test('token_type=pop checks req_cnf and binds the access token to its kid', async () => {
    const reqCnf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const form = ropc(sts.defaults.username, sts.defaults.password)
    const bound = await token({ ...form, token_type: 'pop', req_cnf: reqCnf({ kid: 'k1' }) })
    assert.equal(bound.status, 200)
    assert.equal(bound.body.token_type, 'pop')
    assert.deepEqual(decodeJwt(String(bound.body.access_token)).cnf, { kid: 'k1' })
    const plain = await token(form)
    assert.equal(plain.body.token_type, 'Bearer')
    assert.equal(decodeJwt(String(plain.body.access_token)).cnf, undefined)
    assertEntraError((await token({ ...form, token_type: 'pop' })).body, 'invalid_request', 90014)
    for (const bad of [reqCnf({ xms_ksl: 'sw' }), 'not json']) {
      assertEntraError(
        (await token({ ...form, token_type: 'pop', req_cnf: bad })).body,
        'invalid_request',
        9002313,
      )
    }
  })
})

describe('device code', () => {
  async function start() {
    const response = await post(`/${sts.tenantId}/oauth2/v2.0/devicecode`, {
      client_id: sts.defaults.publicClientId,
      scope: graphScopes,
    })
    return json(response)
  }
  const poll = (deviceCode: string) =>
    token({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: sts.defaults.publicClientId,
      device_code: deviceCode,
      code: deviceCode,
      client_info: '1',
    })

  test('scripted polls, then success, with poll times logged', async () => {
    sts.settings.devicePollScript = ['authorization_pending', 'slow_down', 'success']
    sts.settings.deviceCodeInterval = 1
    const flow = await start()
    assert.equal(flow.interval, 1)
    assert.equal(flow.expires_in, 900)
    assert.equal(
      flow.message,
      `To sign in, use a web browser to open the page ${String(flow.verification_uri)} and enter the code ${String(flow.user_code)} to authenticate.`,
    )
    const code = String(flow.device_code)
    assertEntraError((await poll(code)).body, 'authorization_pending', 70016)
    assert.equal((await poll(code)).body.error, 'slow_down')
    const done = await poll(code)
    assert.equal(done.status, 200)
    assert.equal(typeof done.body.access_token, 'string')
    const polls = sts.requests({ grantType: 'urn:ietf:params:oauth:grant-type:device_code' })
    assert.equal(polls.length, 3)
    assert.ok(polls.every((entry, i) => i === 0 || entry.time >= (polls[i - 1]?.time ?? 0)))
  })

  test('an expired device code answers expired_token', async () => {
    sts.settings.deviceCodeExpiresIn = 0
    assertEntraError((await poll(String((await start()).device_code))).body, 'expired_token', 70019)
  })
})

describe('faults', () => {
  test('status, headers and body, consumed in order and matched by grant type', async () => {
    sts.inject({
      match: { grantType: 'client_credentials' },
      times: 2,
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: 'throttled' },
    })
    sts.inject({ match: { path: /token$/ }, status: 503 })
    const first = await post(tokenPath(), secretForm())
    assert.equal(first.status, 429)
    assert.equal(first.headers.get('retry-after'), '7')
    assert.deepEqual(await first.json(), { error: 'throttled' })
    assert.equal((await post(tokenPath(), secretForm())).status, 429)
    assert.equal((await post(tokenPath(), secretForm())).status, 503)
    assert.equal((await post(tokenPath(), secretForm())).status, 200)
    assert.deepEqual(
      sts.tokenRequests().map((entry) => [entry.status, entry.fault]),
      [
        [429, 'status'],
        [429, 'status'],
        [503, 'status'],
        [200, undefined],
      ],
    )
  })

  test('garbage and truncated bodies', async () => {
    sts.inject({ kind: 'garbage' })
    const garbage = await post(tokenPath(), secretForm())
    assert.equal(garbage.status, 200)
    await assert.rejects(garbage.json())
    sts.inject({ kind: 'truncated' })
    const truncated = await post(tokenPath(), secretForm())
    await assert.rejects(truncated.text())
    assert.equal(sts.tokenRequests()[1]?.status, 200)
  })

  test('drop and hang', async () => {
    sts.inject({ kind: 'drop', match: { method: 'GET', path: '/discovery/' } })
    await assert.rejects(get(`/${sts.tenantId}/discovery/v2.0/keys`))
    sts.inject({ kind: 'hang', match: { path: 'openid-configuration' } })
    await assert.rejects(
      fetch(`${sts.url}/common/v2.0/.well-known/openid-configuration`, {
        dispatcher,
        signal: AbortSignal.timeout(200),
      }),
    )
    assert.deepEqual(
      sts.requests().map((entry) => [entry.fault, entry.status]),
      [
        ['drop', 0],
        ['hang', 0],
      ],
    )
  })

  test('a delay-only fault delays, then serves; clearFaults empties the queue', async () => {
    sts.inject({ delayMs: 150, headers: { 'x-extra': '1' } })
    const started = Date.now()
    const response = await get('/common/v2.0/.well-known/openid-configuration')
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('x-extra'), '1')
    assert.ok(Date.now() - started >= 140)
    sts.inject({ status: 500, times: Infinity })
    sts.clearFaults()
    assert.equal((await get('/common/v2.0/.well-known/openid-configuration')).status, 200)
  })
})

describe('request log', () => {
  test('records method, path, query, lowercased headers, form, grant type and client id', async () => {
    await post(tokenPath(), secretForm(), { 'X-Client-SKU': 'msal-ts' })
    await get('/common/discovery/instance?api-version=1.1')
    const [entry] = sts.tokenRequests()
    assert.equal(entry?.method, 'POST')
    assert.equal(entry?.path, tokenPath())
    assert.equal(entry?.headers['x-client-sku'], 'msal-ts')
    assert.equal(entry?.form?.client_secret, sts.defaults.clientSecret)
    assert.equal(entry?.grantType, 'client_credentials')
    assert.equal(entry?.clientId, sts.defaults.confidentialClientId)
    assert.equal(entry?.status, 200)
    assert.deepEqual(sts.requests({ path: 'discovery/instance' })[0]?.query, {
      'api-version': '1.1',
    })
    assert.equal(sts.requests({ method: 'get' }).length, 1)
    sts.clearLog()
    assert.equal(sts.log.length, 0)
  })
})

describe('options', () => {
  test('tenant override, no defaults, own PKI dir removed on close', async () => {
    const other = await startSts({
      tenantId: '11111111-2222-4333-8444-555555555555',
      registerDefaults: false,
    })
    const agent = new Agent({ connect: { ca: other.caPem } })
    try {
      const body = (await (
        await fetch(`${other.authority()}/v2.0/.well-known/openid-configuration`, {
          dispatcher: agent,
        })
      ).json()) as Record<string, unknown>
      assert.equal(body.issuer, `${other.url}/11111111-2222-4333-8444-555555555555/v2.0`)
      const response = await fetch(
        `${other.url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
        { dispatcher: agent },
      )
      assert.equal(
        ((await response.json()) as Record<string, unknown>).token_endpoint,
        `${other.url}/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token`,
      )
    } finally {
      await agent.close()
      await other.close()
    }
    assert.equal(existsSync(other.caFile), false)
  })
})
