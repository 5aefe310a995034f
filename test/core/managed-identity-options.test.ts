// ManagedIdentityClient's options are checked as the application classes' are: a name it does not
// know, a wrong type, or an identity that is not exactly one user-assigned id is a UsageError at
// construction. Taken as given, `{ clientId }` would go out with no id at all and the caller would
// silently get the system-assigned identity's token.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ManagedIdentityClient,
  SerializableTokenCache,
  UsageError,
  memoryStore,
  type HttpClient,
  type ManagedIdentityClientOptions,
} from 'msal-ts'
import { assertUsageError } from './usage-error.js'
import { noNetwork } from './offline-apps.js'

const client = (options: unknown) =>
  new ManagedIdentityClient({
    env: {},
    httpClient: noNetwork,
    ...(options as ManagedIdentityClientOptions),
  })

/** [what, the options, the words the message must hold] */
const refused: [string, unknown, string][] = [
  ['clientId at the top level', { clientId: 'abc' }, 'managedIdentity: { clientId }'],
  ['client_id at the top level', { client_id: 'abc' }, 'managedIdentity: { clientId }'],
  ['objectId at the top level', { objectId: 'abc' }, 'managedIdentity: { objectId }'],
  ['an unknown option', { foo: 1 }, '"foo"'],
  ["imdsRetryDelaysMs: 'x'", { imdsRetryDelaysMs: 'x' }, 'imdsRetryDelaysMs'],
  ['imdsRetryDelaysMs: [-1]', { imdsRetryDelaysMs: [-1] }, 'imdsRetryDelaysMs'],
  ['imdsRetryDelaysMs: [1e12]', { imdsRetryDelaysMs: [10, 1e12] }, 'from 0 to 60000'],
  ['imdsRetryDelaysMs: [60001]', { imdsRetryDelaysMs: [60_001] }, 'from 0 to 60000'],
  ['imdsRetryDelaysMs: [Infinity]', { imdsRetryDelaysMs: [Infinity] }, 'imdsRetryDelaysMs'],
  ['imdsRetryDelaysMs: [NaN]', { imdsRetryDelaysMs: [NaN] }, 'imdsRetryDelaysMs'],
  ['two ids', { managedIdentity: { clientId: 'a', objectId: 'b' } }, 'managedIdentity'],
  ['no id', { managedIdentity: {} }, 'managedIdentity'],
  ['an id left undefined', { managedIdentity: { clientId: undefined } }, 'managedIdentity'],
  [
    'every id left undefined',
    { managedIdentity: { clientId: undefined, objectId: undefined } },
    'managedIdentity',
  ],
  ['an unknown id field', { managedIdentity: { foo: 'x' } }, 'managedIdentity has no option "foo"'],
  ['a number as the id', { managedIdentity: { clientId: 5 } }, 'managedIdentity.clientId'],
  ['a blank id', { managedIdentity: { resourceId: ' ' } }, 'managedIdentity.resourceId'],
  ['a string as the identity', { managedIdentity: 'abc' }, 'managedIdentity'],
  ['tokenCache: {}', { tokenCache: {} }, 'tokenCache'],
  ["enablePiiLog: 'yes'", { enablePiiLog: 'yes' }, 'enablePiiLog'],
  ['env: 5', { env: 5 }, 'env'],
]

for (const [name, options, words] of refused) {
  test(`ManagedIdentityClient with ${name}: a UsageError holding ${words}`, () =>
    assertUsageError(UsageError, () => client(options), words))
}

test('ManagedIdentityClient options that are no object are a UsageError', async () => {
  await assertUsageError(UsageError, () => new ManagedIdentityClient(null as never), 'options')
  await assertUsageError(UsageError, () => new ManagedIdentityClient('abc' as never), 'options')
})

test('every option of the right shape is taken', () => {
  assert.doesNotThrow(() => new ManagedIdentityClient())
  assert.doesNotThrow(() =>
    client({
      managedIdentity: { objectId: 'o' },
      env: { A: 'b', C: undefined },
      imdsRetryDelaysMs: [0, 10.5, 60_000],
      tokenCache: new SerializableTokenCache(),
      cacheStore: memoryStore(),
      verify: false,
      proxies: { https: 'http://proxy:3128', http: null },
      timeout: 5,
      logger: () => undefined,
      enablePiiLog: false,
      clock: () => 0,
    }),
  )
})

test('acquireTokenForClient refuses a resource that is no string and options it does not take', async () => {
  const app = client({})
  const cases: [unknown, Record<string, unknown>, string][] = [
    [42, {}, 'resource'],
    [undefined, {}, 'resource'],
    ['https://vault.azure.net', { forceRefresh: 'yes' }, 'forceRefresh'],
    ['https://vault.azure.net', { scopes: ['x'] }, '"scopes"'],
    ['https://vault.azure.net', { signal: 'stop' }, 'signal'],
  ]
  for (const [resource, options, words] of cases) {
    await assertUsageError(
      UsageError,
      () => app.acquireTokenForClient(resource as string, options),
      words,
    )
  }
})

for (const [name, given, query, value] of [
  ['{ objectId }', { objectId: 'oid' }, 'object_id', 'oid'],
  ['{ clientId, objectId: undefined }', { clientId: 'c', objectId: undefined }, 'client_id', 'c'],
  [
    '{ clientId: undefined, resourceId: undefined, objectId }',
    { clientId: undefined, resourceId: undefined, objectId: 'oid' },
    'object_id',
    'oid',
  ],
] as const) {
  test(`managedIdentity ${name} goes out by its one id, an id left undefined absent`, async () => {
    const urls: string[] = []
    const http: HttpClient = {
      request(req) {
        urls.push(req.url)
        return Promise.resolve({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: '3600' }),
        })
      },
    }
    const app = client({ httpClient: http, managedIdentity: given })
    await app.acquireTokenForClient('https://vault.azure.net')
    const sent = new URL(urls.at(-1) ?? '')
    assert.equal(sent.searchParams.get(query), value)
    assert.deepEqual(
      [...sent.searchParams.keys()].filter((key) => /_id$/.test(key)),
      [query],
    )
  })
}
