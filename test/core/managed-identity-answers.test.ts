import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import {
  createHttpClient,
  ManagedIdentityClient,
  OAuthServerError,
  RuntimeFailure,
} from '../../src/core/index.js'
import { startManagedIdentityEndpoints, type MiEndpoints } from '../fixtures/managed-identity.js'
import { sendJson, serveOnLoopback } from '../fixtures/loopback-server.js'

const vault = 'https://vault.azure.net'

describe('managed identity: one retry policy, and answers checked as token responses', () => {
  let mi: MiEndpoints
  let appService: { server: Server; url: string }
  /** What the App Service stand-in answers next. */
  let answer: Record<string, unknown> = {}
  const http = createHttpClient({ timeoutMs: 5000 })

  before(async () => {
    mi = await startManagedIdentityEndpoints()
    appService = await serveOnLoopback((_req, res) => {
      sendJson(res, 200, answer)
      return Promise.resolve()
    })
  })
  after(async () => {
    await http.close()
    await mi.close()
    appService.server.closeAllConnections()
    await new Promise((resolve) => appService.server.close(resolve))
  })

  test('against a lasting 500, IMDS is asked 4 times (1 + 3 retries), the HTTP retry not nested', async () => {
    mi.clear()
    mi.fail(500, 20)
    const client = new ManagedIdentityClient({
      env: mi.imdsEnv(),
      httpClient: http,
      imdsRetryDelaysMs: [0, 0, 0],
    })
    await assert.rejects(
      client.acquireTokenForClient(vault),
      (error) => error instanceof OAuthServerError && error.status === 500,
    )
    assert.equal(mi.requests.length, 4)
    mi.clear()
  })

  const now = () => Math.floor(Date.now() / 1000)
  const hostile: [string, () => Record<string, unknown>, RegExp][] = [
    [
      'token_type mac',
      () => ({ access_token: 'at', token_type: 'mac', expires_on: String(now() + 3600) }),
      /a token of type "mac" to a request for Bearer/,
    ],
    [
      'CR/LF in token_type',
      () => ({
        access_token: 'at',
        token_type: 'Bearer\r\nX-Injected: 1',
        expires_on: String(now() + 3600),
      }),
      /token_type that is not a plain string/,
    ],
    [
      'CR/LF in access_token',
      () => ({
        access_token: 'at\r\nX-Injected: 1',
        token_type: 'Bearer',
        expires_on: String(now() + 3600),
      }),
      /access token holding a control character/,
    ],
    [
      'expires_on 1e21',
      () => ({ access_token: 'at', token_type: 'Bearer', expires_on: 1e21 }),
      /expires_on 1e\+21, not a lifetime/,
    ],
    [
      'expires_in "soon"',
      () => ({ access_token: 'at', token_type: 'Bearer', expires_in: 'soon' }),
      /expires_in "soon", not a lifetime/,
    ],
    [
      'no lifetime at all',
      () => ({ access_token: 'at', token_type: 'Bearer' }),
      /without the token's lifetime/,
    ],
  ]
  for (const [name, body, message] of hostile) {
    test(`App Service answering ${name}: refused, nothing cached`, async () => {
      answer = body()
      const client = new ManagedIdentityClient({
        env: { IDENTITY_ENDPOINT: `${appService.url}/token`, IDENTITY_HEADER: 'h' },
        httpClient: http,
      })
      await assert.rejects(client.acquireTokenForClient(vault), (error) => {
        assert.ok(error instanceof RuntimeFailure)
        assert.equal(error.code, 'invalid_response')
        assert.match(error.message, /^the App Service identity endpoint answered /)
        assert.match(error.message, message)
        return true
      })
      assert.deepEqual(Object.keys(client.tokenCache.toJSON().AccessToken), [])
    })
  }

  test('App Service expires_on as a number or a numeric string gives an integral expiry', async () => {
    for (const expiresOn of [now() + 3600, String(now() + 3600)]) {
      answer = { access_token: 'at', token_type: 'Bearer', expires_on: expiresOn }
      const client = new ManagedIdentityClient({
        env: { IDENTITY_ENDPOINT: `${appService.url}/token`, IDENTITY_HEADER: 'h' },
        httpClient: http,
      })
      const result = await client.acquireTokenForClient(vault)
      assert.ok(Number.isInteger(result.expires_on))
      const [entry] = Object.values(client.tokenCache.toJSON().AccessToken)
      assert.match(entry?.expires_on ?? '', /^\d+$/)
    }
  })
})
