import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  deadLoopbackUrl,
  startManagedIdentityEndpoints,
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
    const home = await tempDir()
    mi.clear()
    const env = mi.appServiceEnv()
    const first = await miRun(
      home,
      ['--resource', vault, '-o', 'json', '--log-level', 'debug'],
      env,
    )
    assert.equal(first.exitCode, 0, first.stderr)
    const json = JSON.parse(first.stdout) as Record<string, unknown>
    assert.equal(json['access_token'], mi.issued[0])
    assert.equal(json['token_source'], 'identity_provider')
    const now = Math.floor(Date.now() / 1000)
    assert.ok(Math.abs(Number(json['expires_on']) - (now + mi.lifetime)) < 30)
    const [asked] = mi.requests
    assert.equal(asked?.source, 'appservice', 'App Service wins over IMDS')
    assert.equal(asked?.method, 'GET')
    assert.equal(asked?.headers['x-identity-header'], mi.identityHeader)
    assert.deepEqual(asked?.query, { 'api-version': '2019-08-01', resource: vault })
    assertNoTokens(first.stderr)

    const second = await miRun(home, ['--resource', vault, '--log-level', 'debug'], env)
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, `${mi.issued[0]}\n`)
    assert.equal(mi.requests.length, 1, 'a cache hit makes no request')
    assertNoTokens(second.stderr)

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

  test('nothing listening at the IMDS address and no other source: exit 1 within 2 seconds, one line', async () => {
    const home = await tempDir()
    const started = Date.now()
    const result = await run(home, ['client-token', '--managed-identity', '--resource', vault], {
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: await deadLoopbackUrl() },
    })
    const elapsed = Date.now() - started
    assert.equal(result.exitCode, 1, result.stderr)
    assert.ok(elapsed < 2500, `took ${elapsed} ms`)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts: managed_identity_unavailable: no managed identity endpoint answered at 127\.0\.0\.1:\d+ \(the instance metadata service\): [^\n]+\n$/,
    )
    assertNoStack(result.stderr)
  })

  test('usage: credentials, two selectors, no resource, or selectors without --managed-identity', async () => {
    const home = await tempDir()
    mi.clear()
    const secret = await miRun(home, ['--client-secret', 's', '--resource', vault])
    assert.equal(secret.exitCode, 2)
    assert.match(secret.stderr, /^msal-ts: conflicting_credentials: /)
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
