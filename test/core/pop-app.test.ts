import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose'
import { ConfidentialClientApplication } from '../../src/core/clients/confidential-client.js'
import { UsageError } from '../../src/core/kernel/errors.js'
import { memoryStore } from '../../src/core/kernel/json-store.js'
import { popAuthScheme } from '../../src/core/protocol/pop.js'
import { PublicClientApplication } from '../../src/core/clients/public-client.js'
import { SerializableTokenCache } from '../../src/core/token-cache/token-cache.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'

describe('Proof-of-Possession and removeTokensForClient through the library', () => {
  let sts: Sts
  const otherClient = { clientId: 'e1e1e1e1-0000-4000-8000-000000000002', secret: 'other secret' }

  before(async () => {
    sts = await startSts()
    sts.addClient(otherClient)
  })
  after(() => sts.close())

  const base = () => ({ authority: sts.authority(), verify: sts.caFile })
  const scheme = popAuthScheme('GET', 'https://api.contoso.test/items', 'n1')

  async function shrClaims(shr: string): Promise<Record<string, unknown>> {
    const jwk = (decodeJwt(shr)['cnf'] as { jwk: JWK }).jwk
    return (await jwtVerify(shr, await importJWK(jwk, 'RS256'))).payload
  }

  test('ROPC and silent calls with authScheme answer a PoP SHR; rotation binds to a new key', async () => {
    const app = new PublicClientApplication({
      clientId: sts.defaults.publicClientId,
      ...base(),
      cacheStore: memoryStore(),
      popKeyStore: memoryStore(),
    })
    assert.equal(app.isPopSupported(), true)
    try {
      const result = await app.acquireTokenByUsernamePassword(
        sts.defaults.username,
        sts.defaults.password,
        ['User.Read'],
        { authScheme: scheme },
      )
      assert.equal(result.token_type, 'pop')
      const claims = await shrClaims(result.access_token)
      assert.equal(claims['m'], 'GET')
      assert.equal(claims['u'], 'api.contoso.test')
      assert.equal(claims['p'], '/items')
      assert.equal(claims['nonce'], 'n1')
      const kid = decodeProtectedHeader(result.access_token).kid
      assert.deepEqual(decodeJwt(String(claims['at']))['cnf'], { kid })

      const [account] = await app.getAccounts()
      assert.ok(account)
      sts.clearLog()
      const silent = await app.acquireTokenSilentWithError(['User.Read'], account, {
        authScheme: scheme,
      })
      assert.equal(silent?.token_source, 'cache')
      assert.equal((await shrClaims(String(silent?.access_token)))['at'], claims['at'])
      const bearer = await app.acquireTokenSilentWithError(['User.Read'], account)
      assert.equal(bearer?.token_type, 'Bearer')
      assert.equal(decodeJwt(String(bearer?.access_token))['cnf'], undefined)
      assert.equal(
        sts.tokenRequests().length,
        1,
        'the bearer token was fetched, the PoP one cached',
      )

      const newKid = await app.rotatePopKey()
      assert.notEqual(newKid, kid)
      const rebound = await app.acquireTokenSilentWithError(['User.Read'], account, {
        authScheme: scheme,
      })
      assert.equal(rebound?.token_source, 'identity_provider')
      assert.equal(decodeProtectedHeader(String(rebound?.access_token)).kid, newKid)
    } finally {
      await app.close()
    }
  })

  test('an OIDC authority does not support PoP and refuses an authScheme', async () => {
    const app = new PublicClientApplication({
      clientId: 'app',
      oidcAuthority: 'https://127.0.0.1:9/issuer',
    })
    assert.equal(app.isPopSupported(), false)
    const account = {
      home_account_id: 'uid.utid',
      environment: '127.0.0.1',
      username: 'a',
      authority_type: 'MSSTS',
      local_account_id: 'uid',
      realm: 'utid',
    }
    await assert.rejects(
      app.acquireTokenSilentWithError(['openid'], account, { authScheme: scheme }),
      (error: unknown) => error instanceof UsageError && error.code === 'pop_unsupported',
    )
  })

  test('removeTokensForClient drops only the app-only tokens of its client', async () => {
    const cacheStore = memoryStore()
    const confidential = (clientId: string, secret: string) =>
      new ConfidentialClientApplication({
        clientId,
        clientCredential: secret,
        ...base(),
        cacheStore,
      })
    const mine = confidential(sts.defaults.confidentialClientId, sts.defaults.clientSecret)
    const other = confidential(otherClient.clientId, otherClient.secret)
    const user = new PublicClientApplication({
      clientId: sts.defaults.publicClientId,
      ...base(),
      cacheStore,
    })
    try {
      await mine.acquireTokenForClient(['https://graph.microsoft.com/.default'])
      await other.acquireTokenForClient(['https://graph.microsoft.com/.default'])
      await user.acquireTokenByUsernamePassword(sts.defaults.username, sts.defaults.password, [
        'User.Read',
      ])
      const before = await cacheStore.read()
      await mine.removeTokensForClient()
      const cache = new SerializableTokenCache()
      cache.deserialize(await cacheStore.read())
      const doc = cache.toJSON()
      const was = before as typeof doc
      const left = Object.values(doc.AccessToken)
      assert.deepEqual(
        left.map((at) => at.client_id).sort(),
        [otherClient.clientId, sts.defaults.publicClientId].sort(),
      )
      assert.deepEqual(
        doc.AccessToken,
        Object.fromEntries(
          Object.entries(was.AccessToken).filter(
            ([, at]) => at.client_id !== sts.defaults.confidentialClientId,
          ),
        ),
        "the user's and the other client's access tokens are untouched",
      )
      for (const section of ['RefreshToken', 'IdToken', 'Account', 'AppMetadata'] as const) {
        assert.deepEqual(doc[section], was[section], `${section} untouched`)
      }
    } finally {
      await Promise.all([mine.close(), other.close(), user.close()])
    }
  })
})
