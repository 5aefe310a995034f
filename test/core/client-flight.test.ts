// Concurrent identical client-credential requests in one process share one request to the
// identity provider, whether it succeeds or fails (the built package, as a user calls it).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfidentialClientApplication, OAuthServerError, type HttpClient } from 'msal-ts'

const authority = 'https://login.microsoftonline.com/tid'

function provider(token: { status: number; body: object }) {
  let posts = 0
  const http: HttpClient = {
    async request(req) {
      posts += req.method === 'POST' ? 1 : 0
      // Every caller is waiting by the time the provider answers.
      await new Promise((resolve) => setTimeout(resolve, 20))
      const answer =
        req.method === 'POST'
          ? token
          : { status: 200, body: { token_endpoint: `${authority}/oauth2/v2.0/token` } }
      return {
        status: answer.status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(answer.body),
      }
    },
  }
  const app = new ConfidentialClientApplication({
    clientId: 'cid',
    clientCredential: 'secret',
    authority,
    httpClient: http,
    instanceDiscovery: false,
    env: {},
  })
  return { app, posts: () => posts }
}

test('ten concurrent calls refused with invalid_scope make one request and share its error', async () => {
  const idp = provider({
    status: 400,
    body: { error: 'invalid_scope', error_description: 'AADSTS70011: bad scope' },
  })
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => idp.app.acquireTokenForClient(['api://x/.default'])),
  )
  assert.equal(idp.posts(), 1)
  for (const result of results) {
    assert.equal(result.status, 'rejected')
    assert.ok(result.reason instanceof OAuthServerError)
    assert.equal(result.reason.code, 'invalid_scope')
  }
})

test('ten concurrent calls that succeed make one request', async () => {
  const idp = provider({
    status: 200,
    body: { token_type: 'Bearer', expires_in: 3600, access_token: 'at' },
  })
  const results = await Promise.all(
    Array.from({ length: 10 }, () => idp.app.acquireTokenForClient(['api://x/.default'])),
  )
  assert.equal(idp.posts(), 1)
  assert.ok(results.every((result) => result.access_token === 'at'))
})
