import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  createHttpClient,
  federatedTokenCredential,
  ManagedIdentityClient,
  managedIdentitySource,
  OAuthServerError,
  RuntimeFailure,
  UsageError,
} from '../../src/core/index.js'
import { startCiRuntime, type CiRuntime } from '../fixtures/ci-runtime.js'
import { startManagedIdentityEndpoints, type MiEndpoints } from '../fixtures/managed-identity.js'
import { makeClientCertificate } from '../fixtures/pki.js'
import { tempDir } from '../cli/harness.js'

const vault = 'https://vault.azure.net'

describe('ManagedIdentityClient', () => {
  let mi: MiEndpoints
  const http = createHttpClient({ timeoutMs: 5000 })

  before(async () => {
    mi = await startManagedIdentityEndpoints()
  })
  after(async () => {
    await http.close()
    await mi.close()
  })

  test('the source follows MSAL: Service Fabric, App Service, Machine Learning, Arc, Cloud Shell, IMDS', () => {
    const both = { IDENTITY_ENDPOINT: 'http://x', IDENTITY_HEADER: 'h' }
    assert.equal(
      managedIdentitySource({ ...both, IDENTITY_SERVER_THUMBPRINT: 't' }),
      'ServiceFabric',
    )
    assert.equal(managedIdentitySource(both), 'AppService')
    assert.equal(
      managedIdentitySource({ MSI_ENDPOINT: 'http://x', MSI_SECRET: 's' }),
      'MachineLearning',
    )
    assert.equal(
      managedIdentitySource({ IDENTITY_ENDPOINT: 'http://x', IMDS_ENDPOINT: 'http://y' }),
      'AzureArc',
    )
    assert.equal(managedIdentitySource({ MSI_ENDPOINT: 'http://x' }), 'CloudShell')
    assert.equal(managedIdentitySource({}), 'Imds')
  })

  test('a token, then a cache hit from the same client; forceRefresh asks again', async () => {
    mi.clear()
    const client = new ManagedIdentityClient({ env: mi.imdsEnv(), httpClient: http })
    const first = await client.acquireTokenForClient(`${vault}/.default`)
    assert.equal(first.access_token, mi.issued[0])
    assert.equal(first.token_source, 'identity_provider')
    assert.deepEqual(first.scope, [vault])
    const second = await client.acquireTokenForClient(vault)
    assert.equal(second.token_source, 'cache')
    assert.equal(second.access_token, first.access_token)
    assert.equal(mi.requests.length, 1)
    const forced = await client.acquireTokenForClient(vault, { forceRefresh: true })
    assert.equal(forced.access_token, mi.issued[1])
    assert.equal(mi.requests.length, 2)
  })

  test('a long-lived token is refreshed at half its life, and served while the refresh fails', async () => {
    mi.clear()
    mi.lifetime = 7200
    try {
      const base = Math.floor(Date.now() / 1000)
      let offset = 0
      const client = new ManagedIdentityClient({
        env: mi.imdsEnv(),
        httpClient: http,
        clock: () => base + offset,
        imdsRetryDelaysMs: [],
      })
      const first = await client.acquireTokenForClient(vault)
      assert.equal(first.refresh_on, base + 3600)
      offset = 3700
      mi.fail(400)
      const aging = await client.acquireTokenForClient(vault)
      assert.equal(aging.access_token, first.access_token, 'the aging token, as the refresh failed')
      const refreshed = await client.acquireTokenForClient(vault)
      assert.equal(refreshed.access_token, mi.issued[1])
      assert.equal(mi.requests.length, 3)
    } finally {
      mi.lifetime = 86399
    }
  })

  test('IMDS retries 404/410/429/5xx three times, then reports the answer', async () => {
    mi.clear()
    mi.fail(404, 10)
    const client = new ManagedIdentityClient({
      env: mi.imdsEnv(),
      httpClient: http,
      imdsRetryDelaysMs: [0, 0, 0],
    })
    await assert.rejects(client.acquireTokenForClient(vault), (error) => {
      assert.ok(error instanceof OAuthServerError)
      assert.equal(error.status, 404)
      return true
    })
    assert.equal(mi.requests.length, 4)
    mi.clear()
    mi.fail(410)
    mi.fail(429)
    const ok = await client.acquireTokenForClient(vault)
    assert.equal(ok.access_token, mi.issued[0])
    assert.equal(mi.requests.length, 3)
  })

  test('Service Fabric and Azure Arc are reported as unsupported, without a request', async () => {
    mi.clear()
    const client = new ManagedIdentityClient({
      env: { IDENTITY_ENDPOINT: `${mi.url}/arc`, IMDS_ENDPOINT: mi.url },
      httpClient: http,
    })
    await assert.rejects(
      client.acquireTokenForClient(vault),
      (error) => error instanceof RuntimeFailure && error.code === 'unsupported_source',
    )
    assert.deepEqual(mi.requests, [])
  })
})

describe('federatedTokenCredential', () => {
  let runtime: CiRuntime
  const http = createHttpClient({ timeoutMs: 5000 })

  before(async () => {
    const dir = await tempDir()
    runtime = await startCiRuntime({
      clientId: 'c',
      tokenEndpoint: 'https://127.0.0.1/t/oauth2/v2.0/token',
      certificate: makeClientCertificate(dir, 'runtime'),
    })
  })
  after(async () => {
    await http.close()
    await runtime.close()
  })

  test('checks the environment at once, naming the missing variable', () => {
    assert.throws(
      () => federatedTokenCredential('github', { env: {} }),
      (error) => error instanceof UsageError && /ACTIONS_ID_TOKEN_REQUEST_URL/.test(error.message),
    )
    assert.throws(
      () =>
        federatedTokenCredential('azure-pipelines', {
          env: { SYSTEM_OIDCREQUESTURI: 'http://x', SYSTEM_ACCESSTOKEN: 't' },
        }),
      (error) =>
        error instanceof UsageError &&
        /AZURESUBSCRIPTION_SERVICE_CONNECTION_ID/.test(error.message),
    )
  })

  test('fetches a fresh token at every call, and nothing before the first', async () => {
    runtime.clear()
    const credential = federatedTokenCredential('github', {
      env: runtime.githubEnv(),
      httpClient: http,
      audience: 'api://aud',
    })
    assert.equal(runtime.requests.length, 0)
    const assertion = credential.clientAssertion
    assert.equal(typeof assertion, 'function')
    const call = assertion as () => Promise<string>
    const one = await call()
    const two = await call()
    assert.notEqual(one, two)
    assert.deepEqual(runtime.issued, [one, two])
    assert.deepEqual(
      runtime.requests.map((r) => r.query['audience']),
      ['api://aud', 'api://aud'],
    )

    const pipelines = federatedTokenCredential('azure-pipelines', {
      env: runtime.pipelinesEnv(),
      httpClient: http,
      serviceConnectionId: 'sc',
    })
    const three = await (pipelines.clientAssertion as () => Promise<string>)()
    assert.equal(three, runtime.issued[2])
    assert.equal(runtime.requests.at(-1)?.query['serviceConnectionId'], 'sc')
  })
})
