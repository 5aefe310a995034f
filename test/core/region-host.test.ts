// A region becomes part of the token host, so only a DNS label may: anything else would send the
// client secret wherever the region's text points (the built package, as a user imports it).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ConfidentialClientApplication,
  UsageError,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
} from 'msal-ts'

const tenant = 'tid'

/** Entra in a function: discovery, an IMDS that answers `imdsRegion`, and client credentials. */
function fakeEntra(imdsRegion = '') {
  const requests: HttpRequest[] = []
  const answer = (body: string, type = 'application/json'): Promise<HttpResponse> =>
    Promise.resolve({ status: 200, headers: { 'content-type': type }, body })
  const http: HttpClient = {
    request(req) {
      requests.push(req)
      const url = new URL(req.url)
      if (url.pathname.startsWith('/metadata/instance/compute/location')) {
        return answer(imdsRegion, 'text/plain')
      }
      if (url.pathname.endsWith('/openid-configuration')) {
        return answer(
          JSON.stringify({
            token_endpoint: `https://${url.host}/${tenant}/oauth2/v2.0/token`,
            authorization_endpoint: `https://${url.host}/${tenant}/oauth2/v2.0/authorize`,
          }),
        )
      }
      return answer(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'at' }))
    },
  }
  const tokenHosts = () =>
    requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url).host)
  return { http, tokenHosts }
}

const app = (
  http: HttpClient,
  extra: Partial<ConstructorParameters<typeof ConfidentialClientApplication>[0]>,
) =>
  new ConfidentialClientApplication({
    clientId: 'cid',
    clientCredential: 'TOPSECRET',
    authority: `https://login.microsoftonline.com/${tenant}`,
    httpClient: http,
    env: {},
    ...extra,
  })

for (const [name, extra] of [
  ['azureRegion with a fragment', { azureRegion: 'evil.example#' }],
  ['azureRegion with a path', { azureRegion: 'west us/../x' }],
  ['azureRegion with a port', { azureRegion: 'westus:444' }],
  ['MSAL_FORCE_REGION with a path', { env: { MSAL_FORCE_REGION: 'evil.example/' } }],
] as const) {
  test(`${name} is refused at construction, naming it`, () => {
    const idp = fakeEntra()
    assert.throws(
      () => app(idp.http, extra),
      (error: unknown) =>
        error instanceof UsageError &&
        error.code === 'invalid_region' &&
        error.message.includes('region') &&
        /evil\.example|west us|westus:444/.test(error.message),
    )
    assert.deepEqual(idp.tokenHosts(), [])
  })
}

for (const [name, source] of [
  ['REGION_NAME', { env: { REGION_NAME: 'evil.example#' } }],
  [
    'the IMDS answer',
    { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9' }, imds: 'evil.example#' },
  ],
] as const) {
  test(`a detected region from ${name} that is no DNS label counts as none detected`, async () => {
    const idp = fakeEntra('imds' in source ? source.imds : '')
    const cca = app(idp.http, { azureRegion: true, env: source.env })
    await cca.acquireTokenForClient(['api://x/.default'])
    assert.deepEqual(idp.tokenHosts(), ['login.microsoftonline.com'])
  })
}

test('a region MSAL normalises (spaces, capitals) still reaches its regional host', async () => {
  const idp = fakeEntra()
  await app(idp.http, { azureRegion: 'East US 2' }).acquireTokenForClient(['api://x/.default'])
  assert.deepEqual(idp.tokenHosts(), ['eastus2.login.microsoft.com'])
})

test('azureRegion: null is a region left unsaid, as MSAL reads None', async () => {
  const none = fakeEntra()
  await app(none.http, { azureRegion: null as never }).acquireTokenForClient(['api://x/.default'])
  assert.deepEqual(none.tokenHosts(), ['login.microsoftonline.com'])
  const forced = fakeEntra()
  await app(forced.http, {
    azureRegion: null as never,
    env: { MSAL_FORCE_REGION: 'westus' },
  }).acquireTokenForClient(['api://x/.default'])
  assert.deepEqual(forced.tokenHosts(), ['westus.login.microsoft.com'])
})
