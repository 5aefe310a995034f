/**
 * The test OpenID provider (test/fixtures/oidc) checked on its own, with plain fetch and no
 * msal-ts: what the CLI tests rely on it to do, it does.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createLocalJWKSet, importPKCS8, jwtVerify, SignJWT } from 'jose'
import { makeClientCertificate } from '../fixtures/pki.js'
import { demoResource, startOidcProvider, type OidcProvider } from '../fixtures/oidc/provider.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const form = 'application/x-www-form-urlencoded'

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

describe('the test OpenID provider', () => {
  let op: OidcProvider
  let dir: string

  before(async () => {
    op = await startOidcProvider()
    dir = await mkdtemp(join(tmpdir(), 'msal-ts-oidc-'))
  })
  after(async () => {
    await op.close()
    await rm(dir, { recursive: true, force: true })
  })

  const token = (
    fields: Record<string, string>,
    headers: Record<string, string> = {},
    provider = op,
  ) =>
    fetch(provider.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': form, ...headers },
      body: new URLSearchParams(fields),
    })

  test('discovery at <issuer>/.well-known/openid-configuration: an issuer with a path, every endpoint under it', async () => {
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+\/oidc$/)
    const doc = await json(await fetch(`${op.issuer}/.well-known/openid-configuration`))
    assert.equal(doc['issuer'], op.issuer)
    assert.equal(doc['token_endpoint'], op.endpoints.token)
    assert.equal(doc['authorization_endpoint'], op.endpoints.authorization)
    assert.equal(doc['device_authorization_endpoint'], op.endpoints.deviceAuthorization)
    assert.equal(doc['jwks_uri'], op.endpoints.jwks)
    assert.equal(doc['revocation_endpoint'], op.endpoints.revocation)
    for (const grant of [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]) {
      assert.ok((doc['grant_types_supported'] as string[]).includes(grant), grant)
    }
    assert.ok((doc['response_modes_supported'] as string[]).includes('form_post'))
    assert.deepEqual(doc['code_challenge_methods_supported'], ['S256'])
    assert.ok((doc['scopes_supported'] as string[]).includes('profile'))
    assert.deepEqual(await json(await fetch(op.endpoints.jwks)), op.jwks)

    const [entry] = op.requests({ route: '/.well-known/openid-configuration' })
    assert.equal(entry?.path, '/oidc/.well-known/openid-configuration')
    assert.equal(entry?.status, 200)
    const outside = await fetch(`${op.origin}/.well-known/openid-configuration`)
    assert.equal(outside.status, 404, 'nothing is served outside the mount path')
  })

  test('client credentials with client_secret_post: a JWT access token for the API of the .default scope', async () => {
    op.clearLog()
    const { clientId, secret } = op.clients.secretPost
    const response = await token({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: `${demoResource}/.default`,
      client_info: '1',
    })
    const body = await json(response)
    assert.equal(response.status, 200, JSON.stringify(body))
    assert.equal(body['token_type'], 'Bearer')
    assert.equal(body['expires_in'], 3600)
    assert.equal(body['scope'], `${demoResource}/.default`)
    const { payload, protectedHeader } = await jwtVerify(
      String(body['access_token']),
      createLocalJWKSet(op.jwks),
      { issuer: op.issuer, audience: demoResource },
    )
    assert.equal(protectedHeader.typ, 'at+jwt')
    assert.equal(payload['client_id'], clientId)

    const [request] = op.tokenRequests()
    assert.equal(request?.form?.['client_secret'], secret)
    assert.equal(request?.grantType, 'client_credentials')
    assert.equal(request?.status, 200)
    assert.equal(request?.responseBody, JSON.stringify(body))
  })

  test('client_secret_basic: the secret in an Authorization header, form-encoded (RFC 6749 2.3.1)', async () => {
    op.clearLog()
    const { clientId, secret } = op.clients.secretBasic
    const encode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2)
    const basic = Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')
    const response = await token(
      { grant_type: 'client_credentials', scope: `${demoResource}/.default` },
      { authorization: `Basic ${basic}` },
    )
    assert.equal(response.status, 200, JSON.stringify(await json(response.clone())))
    assert.deepEqual(op.tokenRequests()[0]?.basic, { clientId, secret })
  })

  test('a provider that does not offer client_secret_post does not list it, and ignores a secret in the body (while one offering both takes either for any secret client)', async () => {
    const basicOnly = await startOidcProvider({
      clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    })
    try {
      const doc = await json(await fetch(basicOnly.endpoints.discovery))
      assert.deepEqual(doc['token_endpoint_auth_methods_supported'], [
        'client_secret_basic',
        'private_key_jwt',
        'none',
      ])
      const response = await fetch(basicOnly.endpoints.token, {
        method: 'POST',
        headers: { 'content-type': form },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: basicOnly.clients.secretBasic.clientId,
          client_secret: basicOnly.clients.secretBasic.secret,
          scope: `${demoResource}/.default`,
        }),
      })
      assert.equal(response.status, 401)
      assert.equal((await json(response))['error'], 'invalid_client')
    } finally {
      await basicOnly.close()
    }
  })

  test('private_key_jwt: an assertion whose aud is the token endpoint is accepted (the issuer too), once', async () => {
    const cert = makeClientCertificate(dir, 'pkjwt')
    const clientId = 'self-test-private-key-jwt'
    await op.addPrivateKeyJwtClient(clientId, cert.certPem)
    const key = await importPKCS8(cert.keyPem, 'RS256')
    const assertion = (aud: string) =>
      new SignJWT({ jti: randomBytes(8).toString('hex') })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(key)
    const fields = (jwt: string) => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      scope: `${demoResource}/.default`,
    })
    const forEndpoint = await assertion(op.endpoints.token)
    const first = await token(fields(forEndpoint))
    assert.equal(first.status, 200, JSON.stringify(await json(first.clone())))
    const forIssuer = await token(fields(await assertion(op.issuer)))
    assert.equal(forIssuer.status, 200)
    const replay = await token(fields(forEndpoint))
    assert.equal(replay.status, 401, 'an assertion is good once')
    const elsewhere = await token(fields(await assertion('https://elsewhere.example/token')))
    assert.equal(elsewhere.status, 401)
  })

  test('an unknown API in the scope: invalid_target', async () => {
    const response = await token({
      grant_type: 'client_credentials',
      client_id: op.clients.secretPost.clientId,
      client_secret: op.clients.secretPost.secret,
      scope: 'api://unknown/.default',
      resource: 'api://unknown',
    })
    assert.equal(response.status, 400)
    assert.equal((await json(response))['error'], 'invalid_target')
  })

  /**
   * The authorization code flow with PKCE through the devInteractions pages, in plain HTTP with
   * the cookies kept by hand: what a browser does, minus the browser.
   */
  async function signInByHttp(provider: OidcProvider = op) {
    const cookies = new Map<string, string>()
    const get = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(new URL(url, provider.origin), {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string> | undefined),
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        },
      })
      for (const line of response.headers.getSetCookie()) {
        const [pair = ''] = line.split(';')
        const eq = pair.indexOf('=')
        cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1))
      }
      return response
    }
    const submitPage = async (location: string, fields: Record<string, string>) => {
      const page = await get(location)
      const html = await page.text()
      assert.equal(page.status, 200, html)
      assert.doesNotMatch(html, /googleapis|@import url\(http/, 'no outside resource on the page')
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? ''
      const posted = await get(action, {
        method: 'POST',
        headers: { 'content-type': form },
        body: new URLSearchParams(fields),
      })
      assert.equal(posted.status, 303)
      const resumed = await get(posted.headers.get('location') ?? '')
      assert.equal(resumed.status, 303)
      return resumed.headers.get('location') ?? ''
    }

    const verifier = randomBytes(32).toString('base64url')
    const authorize = new URL(provider.endpoints.authorization)
    const params = {
      client_id: provider.clients.public.clientId,
      response_type: 'code',
      redirect_uri: 'http://localhost:49152',
      scope: `${demoResource}/read offline_access openid profile`,
      state: 'state-1',
      nonce: 'nonce-1',
      client_info: '1',
    }
    authorize.search = new URLSearchParams(params).toString()
    const noPkce = await get(authorize.toString())
    const refused = new URL(noPkce.headers.get('location') ?? '')
    assert.equal(refused.searchParams.get('error'), 'invalid_request', 'PKCE is required')

    authorize.search = new URLSearchParams({
      ...params,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    const start = await get(authorize.toString())
    assert.equal(start.status, 303)
    const consent = await submitPage(start.headers.get('location') ?? '', {
      prompt: 'login',
      login: provider.user.sub,
      password: 'whatever',
    })
    const back = new URL(await submitPage(consent, { prompt: 'consent' }))
    assert.equal(back.origin, 'http://localhost:49152', 'any port of the loopback redirect URI')
    assert.equal(back.searchParams.get('state'), 'state-1')
    assert.equal(back.searchParams.get('iss'), provider.issuer)

    const redeemed = await token(
      {
        grant_type: 'authorization_code',
        code: back.searchParams.get('code') ?? '',
        code_verifier: verifier,
        redirect_uri: 'http://localhost:49152',
        client_id: provider.clients.public.clientId,
        scope: params.scope,
      },
      {},
      provider,
    )
    const tokens = await json(redeemed)
    assert.equal(redeemed.status, 200, JSON.stringify(tokens))
    return { tokens, scope: params.scope }
  }

  test('authorization code with PKCE through the devInteractions pages: ID token with preferred_username, rotated refresh tokens', async () => {
    const { tokens, scope } = await signInByHttp()
    assert.equal(tokens['scope'], `${demoResource}/read`)
    assert.equal(claimsOf(String(tokens['access_token']))['aud'], demoResource)
    const idToken = claimsOf(String(tokens['id_token']))
    assert.equal(idToken['sub'], op.user.sub)
    assert.equal(idToken['preferred_username'], op.user.preferred_username)
    assert.equal(idToken['name'], op.user.name)
    assert.equal(idToken['nonce'], 'nonce-1')
    assert.equal(idToken['aud'], op.clients.public.clientId)
    const firstRt = String(tokens['refresh_token'])
    assert.ok(firstRt.length > 20)

    const refresh = (rt: string) =>
      token({
        grant_type: 'refresh_token',
        refresh_token: rt,
        client_id: op.clients.public.clientId,
        scope,
      })
    const rotated = await json(await refresh(firstRt))
    const secondRt = String(rotated['refresh_token'])
    assert.notEqual(secondRt, firstRt, 'a new refresh token')
    assert.equal(
      claimsOf(String(rotated['id_token']))['preferred_username'],
      op.user.preferred_username,
    )
    const third = await refresh(secondRt)
    assert.equal(third.status, 200, 'the rotated one works')
    const reuse = await refresh(firstRt)
    assert.equal(reuse.status, 400, 'the consumed one does not')
    assert.equal((await json(reuse))['error'], 'invalid_grant')
  })

  test("offlineAccess: with-prompt-consent (oidc-provider's own rule) leaves offline_access out of a refresh token got without prompt=consent", async () => {
    const strict = await startOidcProvider({ offlineAccess: 'with-prompt-consent' })
    try {
      const { tokens, scope } = await signInByHttp(strict)
      assert.ok(tokens['refresh_token'], 'a refresh token all the same')
      const refresh = (asked: string) =>
        token(
          {
            grant_type: 'refresh_token',
            refresh_token: String(tokens['refresh_token']),
            client_id: strict.clients.public.clientId,
            scope: asked,
          },
          {},
          strict,
        )
      const withOffline = await refresh(scope)
      assert.equal(withOffline.status, 400)
      assert.deepEqual(await json(withOffline), {
        error: 'invalid_scope',
        error_description: 'refresh token missing requested scope',
        scope: 'offline_access',
      })
      const without = await refresh(`${demoResource}/read openid profile`)
      assert.equal(without.status, 200)
    } finally {
      await strict.close()
    }
  })

  test('device authorization: the answer carries the configured interval', async () => {
    const started = await json(
      await fetch(op.endpoints.deviceAuthorization, {
        method: 'POST',
        headers: { 'content-type': form },
        body: new URLSearchParams({
          client_id: op.clients.public.clientId,
          scope: 'openid profile offline_access',
        }),
      }),
    )
    assert.equal(started['interval'], 1)
    assert.equal(started['verification_uri'], op.endpoints.deviceVerification)
    assert.match(String(started['user_code']), /^[A-Z]{4}-[A-Z]{4}$/)
  })

  test('tampering: ID tokens in token answers stop verifying against the JWKS, nothing else changes', async () => {
    const jwks = createLocalJWKSet(op.jwks)
    const honest = await signInByHttp()
    await jwtVerify(String(honest.tokens['id_token']), jwks)
    for (const how of ['flip-signature', 'foreign-key'] as const) {
      op.tamper.idToken = how
      try {
        const { tokens } = await signInByHttp()
        const idToken = String(tokens['id_token'])
        assert.equal(claimsOf(idToken)['sub'], op.user.sub, 'the claims are intact')
        await assert.rejects(jwtVerify(idToken, jwks), /signature verification failed/, how)
        await jwtVerify(String(tokens['access_token']), jwks)
      } finally {
        delete op.tamper.idToken
      }
    }
  })
})
