import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UsageError } from '../../src/core/kernel/errors.js'
import {
  decorateScopes,
  mergeClaims,
  normalizeScopes,
  resourceToScope,
  targetOf,
} from '../../src/core/protocol/scopes.js'

test('user flows add the reserved scopes, minus the excluded ones', () => {
  assert.equal(targetOf(decorateScopes(['User.Read'])), 'User.Read offline_access openid profile')
  assert.equal(
    targetOf(decorateScopes(['User.Read'], ['offline_access'])),
    'User.Read openid profile',
  )
  assert.throws(() => decorateScopes(['openid']), UsageError)
  assert.throws(() => decorateScopes(['x'], ['openid']), UsageError)
})

test('scopes split on spaces and resources become .default', () => {
  assert.deepEqual(normalizeScopes(['a b', 'a', ' c ']), ['a', 'b', 'c'])
  assert.equal(
    resourceToScope('https://graph.microsoft.com/'),
    'https://graph.microsoft.com/.default',
  )
  // Already a scope: used as it is, not doubled.
  assert.equal(resourceToScope('api://x/.default'), 'api://x/.default')
  assert.equal(resourceToScope('api://x/.DEFAULT/'), 'api://x/.DEFAULT')
})

test('capabilities merge into the claims challenge as xms_cc', () => {
  assert.equal(mergeClaims(undefined), undefined)
  assert.equal(mergeClaims('{"id_token":{}}'), '{"id_token":{}}')
  assert.deepEqual(JSON.parse(mergeClaims(undefined, ['CP1']) ?? ''), {
    access_token: { xms_cc: { values: ['CP1'] } },
  })
  assert.deepEqual(
    JSON.parse(
      mergeClaims('{"access_token":{"nbf":{"essential":true,"value":"1"}}}', ['CP1']) ?? '',
    ),
    {
      access_token: { nbf: { essential: true, value: '1' }, xms_cc: { values: ['CP1'] } },
    },
  )
  assert.throws(() => mergeClaims('{oops', ['CP1']), UsageError)
})
