import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { isEncryptedKey, keyMatchesCertificate } from '../../src/core/credentials/client-auth.js'
import { UsageError } from '../../src/core/kernel/errors.js'
import { type ClientCertificate, makeClientCertificate } from '../fixtures/pki.js'

let app: ClientCertificate
let other: ClientCertificate

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-client-auth-'))
  app = makeClientCertificate(dir, 'app', { passphrase: 'pw' })
  other = makeClientCertificate(dir, 'other')
})

test('a key matches its own certificate, encrypted or not, and not another one', () => {
  assert.equal(
    keyMatchesCertificate({ privateKey: app.keyPem, publicCertificate: app.certPem }),
    true,
  )
  assert.equal(
    keyMatchesCertificate({
      privateKey: app.encryptedKeyPem ?? '',
      publicCertificate: app.certPem,
      passphrase: 'pw',
    }),
    true,
  )
  assert.equal(
    keyMatchesCertificate({ privateKey: other.keyPem, publicCertificate: app.certPem }),
    false,
  )
})

test('without a certificate there is nothing to compare; a wrong password is a usage error', () => {
  assert.equal(keyMatchesCertificate({ privateKey: other.keyPem }), true)
  assert.throws(
    () =>
      keyMatchesCertificate({
        privateKey: app.encryptedKeyPem ?? '',
        publicCertificate: app.certPem,
        passphrase: 'wrong',
      }),
    (error) => error instanceof UsageError && error.code === 'invalid_certificate',
  )
})

test('an encrypted key is told from a plain one', () => {
  assert.equal(isEncryptedKey(app.encryptedKeyPem ?? ''), true)
  assert.equal(isEncryptedKey(app.keyPem), false)
})
