import assert from 'node:assert/strict'
import { test } from 'node:test'
import { authCodeOf } from '../../src/core/protocol/auth-code-flow.js'
import { OAuthServerError, UsageError } from '../../src/core/kernel/errors.js'

const entra = 'https://login.microsoftonline.com/{tenantid}/v2.0'
const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'

test('an iss naming one tenant of a multi-tenant issuer is accepted', () => {
  const iss = `https://login.microsoftonline.com/${tenant}/v2.0`
  assert.equal(authCodeOf({ code: 'c', iss }, { issuer: entra, required: false }), 'c')
  assert.equal(authCodeOf({ code: 'c', iss: `${iss}/` }, { issuer: entra, required: true }), 'c')
})

test('an iss from another host, path or tenant shape is refused, also on an error response', () => {
  for (const iss of [
    'https://login.example.com/common/v2.0',
    `https://login.microsoftonline.com/${tenant}/v1.0`,
    `https://login.microsoftonline.com/${tenant}/extra/v2.0`,
    'https://login.microsoftonline.com//v2.0',
  ]) {
    assert.throws(
      () => authCodeOf({ error: 'access_denied', iss }, { issuer: entra, required: false }),
      (e) => e instanceof UsageError && e.code === 'issuer_mismatch',
      iss,
    )
  }
})

test('without iss: accepted unless the provider promises it; without a known issuer nothing to compare', () => {
  assert.equal(authCodeOf({ code: 'c' }, { issuer: entra, required: false }), 'c')
  assert.throws(
    () => authCodeOf({ code: 'c' }, { issuer: entra, required: true }),
    (e) => e instanceof UsageError && e.code === 'issuer_mismatch',
  )
  assert.equal(authCodeOf({ code: 'c', iss: 'https://any' }, { required: false }), 'c')
})

test('an error response keeps only its error fields', () => {
  assert.throws(
    () =>
      authCodeOf(
        { error: 'access_denied', error_description: 'no', injected: '<script>' },
        { required: false },
      ),
    (e) =>
      e instanceof OAuthServerError &&
      JSON.stringify(e.body) ===
        JSON.stringify({ error: 'access_denied', error_description: 'no' }),
  )
})
