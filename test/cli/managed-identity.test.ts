import assert from 'node:assert/strict'
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  deadLoopbackUrl,
  startManagedIdentityEndpoints,
  startSilentListener,
  type MiEndpoints,
} from '../fixtures/managed-identity.js'
import { assertNoStack, run, tempDir } from './harness.js'

const vault = 'https://vault.azure.net'

/**
 * Every run sets AZURE_POD_IDENTITY_AUTHORITY_HOST to loopback, so that nothing ever goes to the
 * real IMDS address (169.254.169.254) whatever source a test means to use.
 */
describe('msal-ts client-token --managed-identity', () => {
  let mi: MiEndpoints

  before(async () => {
    mi = await startManagedIdentityEndpoints()
  })
  after(() => mi.close())

  const miRun = (home: string, args: string[], env: Record<string, string> = {}) =>
    run(home, ['client-token', '--managed-identity', ...args], {
      env: { ...mi.imdsEnv(), ...env },
    })

  const assertNoTokens = (stderr: string) => {
    for (const token of mi.issued) {
      assert.ok(!stderr.includes(token), `an access token leaked to stderr:\n${stderr}`)
    }
    assert.ok(!stderr.includes(mi.identityHeader), 'the identity header leaked')
    assert.ok(!stderr.includes(mi.msiSecret), 'the MSI secret leaked')
    for (const key of mi.arcKeys) {
      assert.ok(!stderr.includes(key), `an Azure Arc key leaked to stderr:\n${stderr}`)
    }
  }

  /**
   * A token for the vault from the source `env` names, with a debug log; then the same again,
   * answered from the cache without a request. Neither log holds a token or a secret.
   */
  const tokenThenCacheHit = async (env: Record<string, string>) => {
    const home = await tempDir()
    mi.clear()
    const args = ['--resource', vault, '-o', 'json', '--log-level', 'debug']
    const first = await miRun(home, args, env)
    assert.equal(first.exitCode, 0, first.stderr)
    const json = JSON.parse(first.stdout) as Record<string, unknown>
    assert.equal(json['access_token'], mi.issued[0])
    assert.equal(json['token_source'], 'identity_provider')
    assertNoTokens(first.stderr)
    const asked = [...mi.requests]

    const second = await miRun(home, args, env)
    assert.equal(second.exitCode, 0, second.stderr)
    const again = JSON.parse(second.stdout) as Record<string, unknown>
    assert.equal(again['access_token'], mi.issued[0])
    assert.equal(again['token_source'], 'cache')
    assert.equal(mi.requests.length, asked.length, 'a cache hit makes no request')
    assertNoTokens(second.stderr)
    return { home, json, asked, stderr: first.stderr }
  }

  test('IMDS, system-assigned: a token, then a cache hit with no request; AZURE_CLIENT_ID is not an identity', async () => {
    const home = await tempDir()
    mi.clear()
    // A CI job's app id in the environment must not select a user-assigned identity.
    const env = { AZURE_CLIENT_ID: 'app-id-of-some-ci-job' }
    const first = await miRun(home, ['--resource', vault, '--log-level', 'debug'], env)
    assert.equal(first.exitCode, 0, first.stderr)
    assert.equal(first.stdout, `${mi.issued[0]}\n`)
    assert.equal(mi.requests.length, 1)
    // IMDS is probed first with a bare GET, which it answers at once.
    assert.equal(mi.probes.length, 1)
    assert.equal(mi.probes[0]?.method, 'GET')
    assert.deepEqual(mi.probes[0]?.query, {})
    assert.equal(mi.probes[0]?.headers['metadata'], undefined)
    const [asked] = mi.requests
    assert.equal(asked?.source, 'imds')
    assert.equal(asked?.method, 'GET')
    assert.equal(asked?.headers['metadata'], 'true')
    assert.deepEqual(asked?.query, { 'api-version': '2018-02-01', resource: vault })
    assert.match(first.stderr, /msal-ts: debug: http GET http:\/\/127\.0\.0\.1:\d+\/metadata/)
    assertNoTokens(first.stderr)

    const second = await miRun(
      home,
      ['--resource', vault, '--log-level', 'debug', '-o', 'json'],
      env,
    )
    assert.equal(second.exitCode, 0, second.stderr)
    const json = JSON.parse(second.stdout) as Record<string, unknown>
    assert.equal(json['access_token'], mi.issued[0])
    assert.equal(json['token_source'], 'cache')
    assert.deepEqual(json['scope'], [vault])
    assert.equal(mi.requests.length, 1, 'a cache hit makes no request')
    assert.equal(mi.probes.length, 1, 'nor a probe')
    assertNoTokens(second.stderr)
  })

  test('IMDS, user-assigned by client id, object id or resource id: the right selector, cached per identity', async () => {
    const home = await tempDir()
    mi.clear()
    const cases: [string[], string, string][] = [
      [['--client-id', 'uami-client'], 'client_id', 'uami-client'],
      [['--object-id', 'uami-object'], 'object_id', 'uami-object'],
      [
        ['--mi-resource-id', '/subscriptions/s/rg/r/uami'],
        'msi_res_id',
        '/subscriptions/s/rg/r/uami',
      ],
    ]
    for (const [flags, name, value] of cases) {
      const result = await miRun(home, [...flags, '--scope', `${vault}/.default`])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, `${mi.issued.at(-1)}\n`)
      assert.deepEqual(mi.requests.at(-1)?.query, {
        'api-version': '2018-02-01',
        resource: vault,
        [name]: value,
      })
    }
    assert.equal(mi.requests.length, 3, 'each identity has its own token')
    for (const [flags] of cases) {
      const again = await miRun(home, [...flags, '--resource', vault])
      assert.equal(again.exitCode, 0, again.stderr)
    }
    assert.equal(mi.requests.length, 3, 'the repeats are cache hits')
  })

  test('IMDS: a 404 is retried after a short wait; an error answer is one line, exit 1', async () => {
    const home = await tempDir()
    mi.clear()
    mi.fail(404)
    const retried = await miRun(home, ['--resource', vault])
    assert.equal(retried.exitCode, 0, retried.stderr)
    assert.equal(mi.requests.length, 2)
    assert.deepEqual(
      mi.requests.map((r) => r.status),
      [404, 200],
    )

    const unknown = await miRun(home, ['--client-id', 'unknown-identity', '--resource', vault])
    assert.equal(unknown.exitCode, 1)
    assert.equal(unknown.stdout, '')
    assert.match(unknown.stderr, /^msal-ts: invalid_request: Identity not found\n$/)
  })

  test('App Service: GET with X-IDENTITY-HEADER and the selectors it names; expires_on as epoch seconds', async () => {
    const env = mi.appServiceEnv()
    const { home, json, asked } = await tokenThenCacheHit(env)
    const now = Math.floor(Date.now() / 1000)
    assert.ok(Math.abs(Number(json['expires_on']) - (now + mi.lifetime)) < 30)
    assert.equal(asked.length, 1)
    assert.equal(asked[0]?.source, 'appservice', 'App Service wins over IMDS')
    assert.equal(asked[0]?.method, 'GET')
    assert.equal(asked[0]?.headers['x-identity-header'], mi.identityHeader)
    assert.deepEqual(asked[0]?.query, { 'api-version': '2019-08-01', resource: vault })

    for (const [flags, name, value] of [
      [['--client-id', 'c'], 'client_id', 'c'],
      [['--object-id', 'o'], 'object_id', 'o'],
      [['--mi-resource-id', '/r'], 'mi_res_id', '/r'],
    ] as const) {
      const result = await miRun(home, [...flags, '--resource', vault], env)
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(mi.requests.at(-1)?.query[name], value)
    }
  })

  test('Cloud Shell: a form POST with Metadata: true; a user-assigned identity is refused', async () => {
    const home = await tempDir()
    mi.clear()
    const env = mi.cloudShellEnv()
    const first = await miRun(home, ['--resource', vault, '--log-level', 'debug'], env)
    assert.equal(first.exitCode, 0, first.stderr)
    assert.equal(first.stdout, `${mi.issued[0]}\n`)
    const [asked] = mi.requests
    assert.equal(asked?.source, 'cloudshell')
    assert.equal(asked?.method, 'POST')
    assert.equal(asked?.headers['metadata'], 'true')
    assert.deepEqual(asked?.form, { resource: vault })
    assertNoTokens(first.stderr)
    const second = await miRun(home, ['--resource', vault], env)
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(mi.requests.length, 1, 'a cache hit makes no request')

    const user = await miRun(home, ['--client-id', 'x', '--resource', vault], env)
    assert.equal(user.exitCode, 2)
    assert.match(user.stderr, /^msal-ts: unsupported_identity: /)
  })

  test('Azure Machine Learning: the secret header and its clientid spelling', async () => {
    const home = await tempDir()
    mi.clear()
    const result = await miRun(
      home,
      ['--client-id', 'ml-identity', '--resource', vault],
      mi.machineLearningEnv(),
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const [asked] = mi.requests
    assert.equal(asked?.source, 'ml')
    assert.equal(asked?.headers['secret'], mi.msiSecret)
    assert.deepEqual(asked?.query, {
      'api-version': '2017-09-01',
      resource: vault,
      clientid: 'ml-identity',
    })
  })

  test('the token lands in the shared token cache file, keyed by the identity', async () => {
    const home = await tempDir()
    mi.clear()
    const cacheFile = join(home, 'cache.json')
    const result = await miRun(home, ['--resource', vault, '--cache-file', cacheFile])
    assert.equal(result.exitCode, 0, result.stderr)
    const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      AccessToken: Record<string, Record<string, unknown>>
    }
    const entries = Object.values(doc.AccessToken)
    assert.equal(entries.length, 1)
    assert.equal(entries[0]?.['client_id'], 'system_assigned_managed_identity')
    assert.equal(entries[0]?.['realm'], 'managed_identity')
    assert.equal(entries[0]?.['environment'], 'login.microsoftonline.com')
    assert.equal(entries[0]?.['target'], vault)
    assert.equal(entries[0]?.['home_account_id'], null)
    assert.equal(entries[0]?.['secret'], mi.issued[0])
  })

  test('a read-only cache directory costs the caching, not the token: a warning, the file unchanged', async () => {
    const home = await tempDir()
    mi.clear()
    const dir = join(home, 'ro')
    const cacheFile = join(dir, 'cache.json')
    await mkdir(dir)
    await writeFile(cacheFile, '{}')
    // Root writes through any mode: the run drops to `nobody`, whose files these become.
    const asRoot = process.getuid?.() === 0
    if (asRoot) {
      for (const path of [home, dir, cacheFile]) {
        await chown(path, 65534, 65534)
      }
    }
    await chmod(dir, 0o500)
    try {
      const result = await run(
        home,
        ['client-token', '--managed-identity', '--resource', vault, '--cache-file', cacheFile],
        { env: mi.imdsEnv(), ...(asRoot ? { uid: 65534 } : {}) },
      )
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, `${mi.issued[0]}\n`)
      assert.match(
        result.stderr,
        /^msal-ts: warning: tokens not cached: cannot lock cache file .*cache\.json: permission denied\n$/,
      )
      assert.equal(await readFile(cacheFile, 'utf8'), '{}')
    } finally {
      await chmod(dir, 0o700)
    }
  })

  test('no managed identity here: nothing listening, or a silent listener, at the IMDS address: exit 1 after a 1 s probe, not the 30 s timeout', async () => {
    const home = await tempDir()
    const silent = await startSilentListener()
    try {
      const cases = [
        { url: await deadLoopbackUrl(), why: /cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/ },
        { url: silent.url, why: /127\.0\.0\.1:\d+ did not answer within 1 s/ },
      ]
      for (const { url, why } of cases) {
        const result = await run(
          home,
          ['client-token', '--managed-identity', '--resource', vault, '--timeout', '30'],
          { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: url } },
        )
        assert.equal(result.exitCode, 1, result.stderr)
        assert.equal(result.stdout, '')
        assert.match(
          result.stderr,
          /^msal-ts: managed_identity_unavailable: no managed identity endpoint answered at 127\.0\.0\.1:\d+ \(the instance metadata service\): [^\n]+\n$/,
        )
        // What ended the wait is named: the refusal, or the 1 s probe (not the 30 s timeout).
        assert.match(result.stderr, why)
        assertNoStack(result.stderr)
      }
    } finally {
      await silent.close()
    }
  })

  test('Azure Arc: the 401 challenge, then the key file content as Basic authorization; cached', async () => {
    const { asked } = await tokenThenCacheHit(mi.arcEnv())
    assert.equal(mi.arcKeys.length, 1)
    assert.deepEqual(
      asked.map((r) => [r.source, r.method, r.status, r.headers['authorization']]),
      [
        ['arc', 'GET', 401, undefined],
        ['arc', 'GET', 200, `Basic ${mi.arcKeys[0]}`],
      ],
    )
    for (const request of asked) {
      assert.equal(request.headers['metadata'], 'true')
      assert.deepEqual(request.query, { 'api-version': '2020-06-01', resource: vault })
    }
    assert.deepEqual(mi.probes, [], 'Arc wins over IMDS: no probe')
  })

  test('Azure Arc: a user-assigned identity is refused before any request', async () => {
    const home = await tempDir()
    mi.clear()
    for (const flags of [
      ['--client-id', 'c'],
      ['--object-id', 'o'],
      ['--mi-resource-id', '/r'],
    ]) {
      const result = await miRun(home, [...flags, '--resource', vault], mi.arcEnv())
      assert.equal(result.exitCode, 2)
      assert.match(
        result.stderr,
        /^msal-ts: unsupported_identity: Azure Arc has only the system-assigned identity/,
      )
    }
    assert.deepEqual(mi.requests, [])
  })

  test('Azure Arc: a challenge naming a file outside the key directory, not a .key file, or a key over 4 KB is refused, and nothing is sent back', async () => {
    const home = await tempDir()
    const outside = join(home, 'elsewhere.key')
    await writeFile(outside, 'not-for-the-endpoint')
    const notKey = join(mi.arcKeyDir, 'secret.txt')
    await writeFile(notKey, 'not-a-key')
    const big = join(mi.arcKeyDir, 'big.key')
    await writeFile(big, 'k'.repeat(4097))
    const climbing = join(mi.arcKeyDir, '..', 'up.key')
    const cases: [string, RegExp][] = [
      [
        outside,
        /^msal-ts: invalid_challenge: the Azure Arc challenge names .*elsewhere\.key, which is not a \.key file in /,
      ],
      [climbing, /^msal-ts: invalid_challenge: /],
      [notKey, /^msal-ts: invalid_challenge: /],
      [
        big,
        /^msal-ts: invalid_arc_key: the Azure Arc key file .*big\.key is not a file of at most 4096 bytes\n$/,
      ],
      [
        join(mi.arcKeyDir, 'missing.key'),
        /^msal-ts: arc_key_unreadable: cannot read the Azure Arc key file .*missing\.key: ENOENT\n$/,
      ],
    ]
    for (const [realm, expected] of cases) {
      mi.clear()
      mi.arcRealm = realm
      const result = await miRun(home, ['--resource', vault], mi.arcEnv())
      assert.equal(result.exitCode, 1, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, expected)
      assert.ok(!result.stderr.includes('not-for-the-endpoint'))
      assert.equal(mi.requests.length, 1, `only the challenge was asked for (${realm})`)
    }
  })

  test('Service Fabric: HTTPS to a self-signed token service trusted by its thumbprint, the secret header, api-version 2019-07-01-preview; cached', async () => {
    const env = mi.serviceFabricEnv()
    const { home, asked, stderr } = await tokenThenCacheHit(env)
    assert.equal(asked.length, 1)
    assert.equal(asked[0]?.source, 'servicefabric', 'Service Fabric wins over App Service')
    assert.equal(asked[0]?.method, 'GET')
    assert.equal(asked[0]?.headers['secret'], mi.identityHeader)
    assert.equal(asked[0]?.headers['x-identity-header'], undefined)
    assert.deepEqual(asked[0]?.query, { 'api-version': '2019-07-01-preview', resource: vault })
    assert.match(
      stderr,
      /msal-ts: debug: http GET https:\/\/127\.0\.0\.1:\d+\/servicefabric\/token/,
    )

    // A user-assigned identity is the cluster's business: the id is passed on, with a warning.
    const user = await miRun(home, ['--client-id', 'sf-identity', '--resource', vault], env)
    assert.equal(user.exitCode, 0, user.stderr)
    assert.equal(mi.requests.at(-1)?.query['client_id'], 'sf-identity')
    assert.match(
      user.stderr,
      /^msal-ts: warning: Service Fabric grants user-assigned identities in the cluster configuration/m,
    )
  })

  test('Service Fabric: another thumbprint is a TLS error and nothing is sent; a wrong secret is an OAuth-style error', async () => {
    const home = await tempDir()
    mi.clear()
    const env = mi.serviceFabricEnv()
    const other = await miRun(home, ['--resource', vault], {
      ...env,
      IDENTITY_SERVER_THUMBPRINT: '00'.repeat(20),
    })
    assert.equal(other.exitCode, 1)
    assert.equal(other.stdout, '')
    assert.match(
      other.stderr,
      /^msal-ts: tls_error: the TLS certificate of 127\.0\.0\.1:\d+ does not have the pinned SHA-1 thumbprint\n$/,
    )
    assert.deepEqual(mi.requests, [], 'the secret never left')

    const malformed = await miRun(home, ['--resource', vault], {
      ...env,
      IDENTITY_SERVER_THUMBPRINT: 'xyz',
    })
    assert.equal(malformed.exitCode, 2)
    assert.match(malformed.stderr, /^msal-ts: invalid_environment: IDENTITY_SERVER_THUMBPRINT /)

    const wrong = await miRun(home, ['--resource', vault], { ...env, IDENTITY_HEADER: 'wrong' })
    assert.equal(wrong.exitCode, 1)
    assert.match(wrong.stderr, /^msal-ts: unauthorized_client: SecretHeaderNotFound: /)
  })

  test("a managed identity has no authority: the authority options are refused; a profile's or the environment's authority is no error", async () => {
    const home = await tempDir()
    mi.clear()
    const commands = [
      ['client-token', '--managed-identity', '--resource', vault],
      ['serve', '--managed-identity'],
      ['git-credential', 'get', '--managed-identity'],
    ]
    const options = [
      ['-t', 'contoso.com', '--tenant'],
      ['-a', 'https://login.microsoftonline.com/contoso.com', '--authority'],
      ['--cloud', 'usgov', '--cloud'],
      ['--oidc-authority', 'https://idp.example.com', '--oidc-authority'],
      ['--no-validate-authority', undefined, '--no-validate-authority'],
      ['--no-instance-discovery', undefined, '--no-instance-discovery'],
    ] as const
    for (const command of commands) {
      for (const [option, value, named] of options) {
        const args = [...command, option, ...(value === undefined ? [] : [value])]
        const refused = await run(home, args, {
          env: mi.imdsEnv(),
          input: 'protocol=https\nhost=dev.azure.com\n\n',
        })
        assert.equal(refused.exitCode, 2, args.join(' '))
        assert.equal(
          refused.stderr,
          `msal-ts: conflicting_options: --managed-identity cannot act on ${named}\n`,
        )
        assert.equal(refused.stdout, '')
      }
    }
    assert.deepEqual(mi.requests, [])
    assert.deepEqual(mi.probes, [])

    const profile = await run(home, ['config', 'set', 'tenant', 'contoso.com'])
    assert.equal(profile.exitCode, 0, profile.stderr)
    const defaults = await miRun(home, ['--resource', vault], {
      AZURE_TENANT_ID: 'fabrikam.com',
      MSAL_TS_AUTHORITY: 'https://login.microsoftonline.com/fabrikam.com',
    })
    assert.equal(defaults.exitCode, 0, defaults.stderr)
    assert.equal(defaults.stdout, `${mi.issued[0]}\n`)
  })

  test('usage: credentials, two selectors, no resource, or selectors without --managed-identity', async () => {
    const home = await tempDir()
    mi.clear()
    const secret = await miRun(home, ['--client-secret', 's', '--resource', vault])
    assert.equal(secret.exitCode, 2)
    assert.match(secret.stderr, /^msal-ts: conflicting_credentials: /)
    // A federated token's companions qualify a credential a managed identity does not take.
    const audience = await miRun(home, ['--federated-audience', 'api://x', '--resource', vault])
    assert.equal(audience.exitCode, 2)
    assert.equal(
      audience.stderr,
      'msal-ts: conflicting_credentials: --managed-identity takes no client credential (--federated-audience)\n',
    )
    const two = await miRun(home, ['--client-id', 'a', '--object-id', 'b', '--resource', vault])
    assert.equal(two.exitCode, 2)
    assert.match(two.stderr, /^msal-ts: conflicting_options: /)
    const none = await miRun(home, [])
    assert.equal(none.exitCode, 2)
    assert.match(none.stderr, /^msal-ts: missing_scope: /)
    const lone = await run(home, ['client-token', '--object-id', 'x', '--resource', vault], {
      env: mi.imdsEnv(),
    })
    assert.equal(lone.exitCode, 2)
    assert.match(lone.stderr, /^msal-ts: missing_option: /)
    assert.deepEqual(mi.requests, [])
  })
})
