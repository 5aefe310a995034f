// What the application classes refuse at construction, before a request could fail on it later:
// no options at all, a client credential that cannot authenticate, a region on a public client,
// capabilities and excluded scopes that are no single name.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfidentialClientApplication, PublicClientApplication, UsageError } from 'msal-ts'
import { assertUsageError } from './usage-error.js'
import { cca, pca } from './offline-apps.js'

const pem = '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----'

/** [what, the call, the words the message must hold] */
const refused: [string, () => unknown, string][] = [
  [
    'ConfidentialClientApplication()',
    () => new ConfidentialClientApplication(undefined as never),
    'clientId',
  ],
  ['PublicClientApplication()', () => new PublicClientApplication(undefined as never), 'clientId'],
  ['PublicClientApplication(null)', () => new PublicClientApplication(null as never), 'clientId'],
  ["PublicClientApplication('abc')", () => new PublicClientApplication('abc' as never), 'options'],
  ['clientCredential: {}', () => cca({ clientCredential: {} }), 'clientCredential'],
  [
    'clientCredential: { clientAssertion: undefined }',
    () => cca({ clientCredential: { clientAssertion: undefined } }),
    'clientCredential',
  ],
  [
    'a certificate without its private key',
    () => cca({ clientCredential: { thumbprint: 'ab', publicCertificate: 'cert' } }),
    'clientCredential',
  ],
  [
    'a certificate with a blank private key',
    () => cca({ clientCredential: { privateKey: ' ', thumbprint: 'ab' } }),
    'clientCredential.privateKey',
  ],
  [
    'a certificate with neither its thumbprint nor the certificate',
    () => cca({ clientCredential: { privateKey: pem } }),
    'clientCredential',
  ],
  ['azureRegion on a public client', () => pca({ azureRegion: 'westus' }), 'confidential'],
  ['azureRegion: true on a public client', () => pca({ azureRegion: true }), 'azureRegion'],
  ["azureRegion: ' ' on a public client", () => pca({ azureRegion: ' ' }), 'azureRegion'],
  ['azureRegion: 5 on a public client', () => pca({ azureRegion: 5 }), 'azureRegion'],
  ["clientCapabilities: ['']", () => cca({ clientCapabilities: [''] }), 'clientCapabilities'],
  [
    "clientCapabilities: ['CP1', ' ']",
    () => pca({ clientCapabilities: ['CP1', ' '] }),
    'clientCapabilities',
  ],
  ["excludeScopes: ['']", () => pca({ excludeScopes: [''] }), 'excludeScopes'],
  [
    "clientCapabilities: ['C\\nP']",
    () => cca({ clientCapabilities: ['C\nP'] }),
    'clientCapabilities',
  ],
  [
    "clientCapabilities: ['CP1 ']",
    () => pca({ clientCapabilities: ['CP1 '] }),
    'clientCapabilities',
  ],
  [
    "clientCapabilities: ['CP1 CP2']",
    () => pca({ clientCapabilities: ['CP1 CP2'] }),
    'clientCapabilities',
  ],
  [
    "clientCapabilities: ['CP\\u0085']",
    () => pca({ clientCapabilities: ['CP\u0085'] }),
    'clientCapabilities',
  ],
  [
    "excludeScopes: [' offline_access']",
    () => pca({ excludeScopes: [' offline_access'] }),
    'excludeScopes',
  ],
  ["excludeScopes: ['a\\tb']", () => pca({ excludeScopes: ['a\tb'] }), 'excludeScopes'],
  ["excludeScopes: ['a\\u0000']", () => pca({ excludeScopes: ['a\u0000'] }), 'excludeScopes'],
]

for (const [name, call, words] of refused) {
  test(`${name}: a UsageError holding ${words}, at construction`, () =>
    assertUsageError(UsageError, call, words))
}

for (const [name, secret] of [
  ['blank', ' \t '],
  ['with a line end', 'TOPSECRET\n'],
  ['with a line end inside', 'TOP\nSECRET'],
  ['with a NUL', 'TOP\u0000SECRET'],
  ['with DEL', 'TOPSECRET\u007f'],
  ['with a C1 control', 'TOP\u0085SECRET'],
] as const) {
  test(`a secret ${name} is refused at construction, without showing it`, async () => {
    await assertUsageError(UsageError, () => cca({ clientCredential: secret }), 'clientCredential')
    assert.throws(
      () => cca({ clientCredential: secret }),
      (error: unknown) =>
        error instanceof UsageError &&
        !error.message.includes('TOP') &&
        !error.message.includes(JSON.stringify(secret)),
    )
  })
}

test('a certificate credential missing a part does not show the parts it has', () => {
  assert.throws(
    () => cca({ clientCredential: { publicCertificate: 'cert', passphrase: 'hunter2' } }),
    (error: unknown) => error instanceof UsageError && !error.message.includes('hunter2'),
  )
})

test('complete credentials and names are taken, and a region where it acts', () => {
  assert.doesNotThrow(() => cca({ clientCredential: { privateKey: pem, thumbprint: 'ab' } }))
  assert.doesNotThrow(() => cca({ clientCredential: { privateKey: pem, publicCertificate: 'c' } }))
  assert.doesNotThrow(() => cca({ clientCredential: { clientAssertion: () => 'jwt' } }))
  assert.doesNotThrow(() => cca({ azureRegion: 'westus' }))
  assert.doesNotThrow(() => pca({ azureRegion: undefined }))
  assert.doesNotThrow(() => cca({ azureRegion: null }))
  assert.doesNotThrow(() => cca({ clientCredential: ' s3cr:t ~\u00e9' }))
  assert.doesNotThrow(() => pca({ clientCapabilities: ['CP1'], excludeScopes: ['offline_access'] }))
})

test('a public client takes the values that mean no region, as MSAL documents them', () => {
  for (const azureRegion of [undefined, null, false, '']) {
    assert.doesNotThrow(() => pca({ azureRegion }), String(azureRegion))
  }
  assert.doesNotThrow(() => new PublicClientApplication({ clientId: 'x', azureRegion: false }))
})
