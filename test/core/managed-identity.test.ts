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
import {
  startManagedIdentityEndpoints,
  startSilentListener,
  type MiEndpoints,
} from '../fixtures/managed-identity.js'
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
    // The Arc agent's executable on disk is enough, wherever MSAL Python or msal-node look for it.
    const himds = process.platform === 'win32' ? /himds\.exe$/ : /\/azcmagent\/bin\/himds$/
    assert.equal(
      managedIdentitySource({ MSI_ENDPOINT: 'http://x' }, (path) => himds.test(path)),
      process.platform === 'linux' || process.platform === 'win32' ? 'AzureArc' : 'CloudShell',
    )
    assert.equal(
      managedIdentitySource({}, () => false),
      'Imds',
    )
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

  test('IMDS is probed once per client, with its own 1 s limit rather than the 30 s timeout', async () => {
    mi.clear()
    const client = new ManagedIdentityClient({ env: mi.imdsEnv(), httpClient: http })
    await client.acquireTokenForClient(vault)
    await client.acquireTokenForClient('https://management.azure.com')
    assert.equal(mi.probes.length, 1)
    assert.equal(mi.requests.length, 2)

    const silent = await startSilentListener()
    const slow = createHttpClient({ timeoutMs: 30_000 })
    try {
      const nowhere = new ManagedIdentityClient({
        env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: silent.url },
        httpClient: slow,
      })
      await assert.rejects(nowhere.acquireTokenForClient(vault), (error) => {
        assert.ok(error instanceof RuntimeFailure)
        assert.equal(error.code, 'managed_identity_unavailable')
        assert.match(error.message, /did not answer within 1 s$/)
        return true
      })
    } finally {
      await slow.close()
      await silent.close()
    }
  })

  test('Azure Arc and Service Fabric through the library: the source, a token, then the cache', async () => {
    mi.clear()
    const arc = new ManagedIdentityClient({ env: mi.arcEnv(), httpClient: http })
    assert.equal(arc.source, 'AzureArc')
    const first = await arc.acquireTokenForClient(vault)
    assert.equal(first.access_token, mi.issued[0])
    assert.equal((await arc.acquireTokenForClient(vault)).token_source, 'cache')
    assert.equal(mi.requests.length, 2, 'the challenge and the answer, then nothing')
    await assert.rejects(
      new ManagedIdentityClient({
        env: mi.arcEnv(),
        httpClient: http,
        managedIdentity: { clientId: 'c' },
      }).acquireTokenForClient(vault),
      (error) => error instanceof UsageError && error.code === 'unsupported_identity',
    )

    mi.clear()
    const fabric = new ManagedIdentityClient({ env: mi.serviceFabricEnv(), httpClient: http })
    assert.equal(fabric.source, 'ServiceFabric')
    const token = await fabric.acquireTokenForClient(vault)
    assert.equal(token.access_token, mi.issued[0])
    assert.equal(mi.requests[0]?.headers['secret'], mi.identityHeader)
    assert.equal((await fabric.acquireTokenForClient(vault)).token_source, 'cache')
    assert.equal(mi.requests.length, 1)
  })

  describe('createHttpClient trusts a server pinned by its certificate thumbprint (Service Fabric)', () => {
    const get = (pin?: string) =>
      http.request({
        method: 'GET',
        url: `${mi.httpsUrl}/elsewhere`,
        ...(pin !== undefined ? { serverCertificateSha1: pin } : {}),
      })
    const isTlsError = (error: unknown) => {
      assert.ok(error instanceof RuntimeFailure)
      assert.equal(error.code, 'tls_error')
      return true
    }

    test('without a pin, the self-signed certificate is refused as usual', async () => {
      await assert.rejects(get(), isTlsError)
    })

    test('the pinned thumbprint is accepted, in any case and with colons', async () => {
      assert.equal((await get(mi.serverThumbprint)).status, 404)
      const colons = mi.serverThumbprint.toLowerCase().replace(/(..)(?!$)/g, '$1:')
      assert.equal((await get(colons)).status, 404)
    })

    test('another thumbprint is refused before a request is sent', async () => {
      mi.clear()
      await assert.rejects(get('ab'.repeat(20)), (error) => {
        isTlsError(error)
        assert.match((error as Error).message, /does not have the pinned SHA-1 thumbprint/)
        return true
      })
      assert.deepEqual(mi.requests, [])
    })
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
