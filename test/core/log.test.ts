import assert from 'node:assert/strict'
import { test } from 'node:test'
import { redact } from '../../src/core/kernel/log.js'

test('redact masks tokens, codes, secrets and user names', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'
  assert.equal(redact(`Bearer ${jwt}`), 'Bearer ***')
  assert.equal(
    redact('https://idp/cb?code=abc&state=s1&x=1&client_secret=pw#id_token=zz'),
    'https://idp/cb?code=***&state=***&x=1&client_secret=***#id_token=***',
  )
  assert.equal(
    redact('GET https://h/common/userrealm/alice%40contoso.com?api-version=1.0'),
    'GET https://h/common/userrealm/***?api-version=1.0',
  )
  assert.equal(redact('nothing secret here'), 'nothing secret here')
})
