/**
 * Properties that must hold for any input, checked with fast-check: the token cache survives a
 * round trip through its file format with everything in it (entries of other apps and unknown
 * shapes included), never throws on what another program wrote, and finds what it stored whatever
 * the order or case of the scopes asked for.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'

import { normalizeScopes, targetCovers, targetOf } from '../../src/core/protocol/scopes.js'
import { accessTokenKey } from '../../src/core/token-cache/keys.js'
import { sections } from '../../src/core/token-cache/schema.js'
import { SerializableTokenCache } from '../../src/core/token-cache/token-cache.js'

const now = 1_800_000_000

/** A scope as users and providers write them: no white space, any case. */
const scope = fc.stringMatching(/^[\w.:/-]{1,24}$/)
const scopeSet = fc.uniqueArray(scope, {
  minLength: 1,
  maxLength: 6,
  selector: (s) => s.toLowerCase(),
})

const withShuffled = scopeSet.chain((scopes) =>
  fc.tuple(fc.constant(scopes), fc.shuffledSubarray(scopes, { minLength: scopes.length })),
)

/** Any JSON value, as another program may have left it in a cache section. */
const entry = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.record(
    {
      credential_type: fc.constantFrom('AccessToken', 'RefreshToken', 'IdToken', 'x'),
      secret: fc.oneof(fc.string(), fc.integer()),
      home_account_id: fc.oneof(fc.constant(null), fc.string(), fc.integer()),
      environment: fc.oneof(fc.constant('login.microsoftonline.com'), fc.string(), fc.integer()),
      client_id: fc.oneof(fc.constant('app'), fc.string()),
      realm: fc.oneof(fc.constant('tenant'), fc.string()),
      target: fc.oneof(fc.string(), fc.integer()),
      expires_on: fc.oneof(fc.constant(String(now + 3600)), fc.string(), fc.integer()),
      family_id: fc.constantFrom('1', undefined),
    },
    { requiredKeys: [] },
  ),
)
const section = fc.dictionary(fc.string({ maxLength: 12 }), entry, { maxKeys: 4 })
const cacheDocument = fc.record(
  {
    ...Object.fromEntries(sections.map((name) => [name, section])),
    // Sections MSAL versions newer than ours may add.
    FutureSection: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
)

/** What a JSON file holds once written: JSON.stringify drops undefined and turns -0 into 0. */
function asStored(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>
}

void test('deserialize then serialize keeps every section, entry and field, known or not', () => {
  fc.assert(
    fc.property(cacheDocument, (doc) => {
      const stored = asStored(doc)
      const cache = new SerializableTokenCache()
      cache.deserialize(JSON.stringify(stored))
      const empty = Object.fromEntries(sections.map((name) => [name, {}]))
      assert.deepEqual(JSON.parse(cache.serialize()), { ...empty, ...stored })
      const again = new SerializableTokenCache()
      again.deserialize(cache.serialize())
      assert.equal(again.serialize(), cache.serialize(), 'a second round trip changes nothing')
    }),
  )
})

void test('no lookup, sign-out or write throws on entries another program wrote', () => {
  fc.assert(
    fc.property(cacheDocument, scopeSet, (doc, scopes) => {
      const cache = new SerializableTokenCache()
      cache.deserialize(asStored(doc))
      const environment = 'login.microsoftonline.com'
      cache.findAccessTokens({
        clientId: 'app',
        environment,
        realm: 'tenant',
        homeAccountId: null,
        scopes,
      })
      cache.findRefreshTokens({ environment, homeAccountId: 'uid.utid' })
      cache.accounts(environment)
      cache.idToken({ homeAccountId: 'uid.utid', environment, clientId: 'app' })
      cache.appMetadata('app', environment)
      cache.removeClientTokens('app', [environment])
      cache.removeAccount({ home_account_id: 'uid.utid', environment }, 'app')
      cache.add({
        clientId: 'app',
        environment,
        realm: 'tenant',
        scopes,
        response: { access_token: 'at', expires_in: 3600 },
        grantType: 'client_credentials',
        now,
      })
      JSON.parse(cache.serialize())
    }),
  )
})

void test('a stored token is found again after a round trip, whatever the order and case of the scopes', () => {
  fc.assert(
    fc.property(
      scopeSet.chain((scopes) =>
        fc.tuple(fc.constant(scopes), fc.shuffledSubarray(scopes, { minLength: 1 }), fc.boolean()),
      ),
      ([scopes, asked, upper]) => {
        const cache = new SerializableTokenCache()
        cache.add({
          clientId: 'app',
          environment: 'login.microsoftonline.com',
          realm: 'tenant',
          scopes,
          response: { access_token: 'the-token', expires_in: 3600 },
          grantType: 'client_credentials',
          now,
        })
        const reloaded = new SerializableTokenCache()
        reloaded.deserialize(cache.serialize())
        const found = reloaded.findAccessTokens({
          clientId: 'app',
          environment: 'login.microsoftonline.com',
          realm: 'tenant',
          homeAccountId: null,
          scopes: asked.map((s) => (upper ? s.toUpperCase() : s.toLowerCase())),
        })
        assert.deepEqual(
          found.map((at) => at.secret),
          ['the-token'],
        )
        const [at] = found
        assert.ok(at !== undefined)
        assert.equal(accessTokenKey(at), accessTokenKey(at).toLowerCase(), 'keys are lower case')
        assert.ok(accessTokenKey(at).endsWith(`-${targetOf(scopes).toLowerCase()}`))
      },
    ),
  )
})

void test('scope matching: a target covers exactly its own scopes, in any order and case', () => {
  fc.assert(
    fc.property(withShuffled, scope, ([scopes, shuffled], other) => {
      const target = targetOf(shuffled)
      assert.equal(target, targetOf(scopes), 'the target does not depend on the order')
      assert.ok(targetCovers(target, scopes))
      assert.ok(
        targetCovers(
          target,
          scopes.map((s) => s.toUpperCase()),
        ),
      )
      const known = scopes.some((s) => s.toLowerCase() === other.toLowerCase())
      // A Graph scope may match its bare form; `other` never has the Graph prefix it needs to.
      assert.equal(targetCovers(target, [other]), known)
      assert.equal(targetCovers(target, [...scopes, other]), known)
    }),
  )
})

void test('normalizeScopes: idempotent, no empty or duplicate scope, nothing invented', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 8 }), (input) => {
      const once = normalizeScopes(input)
      assert.deepEqual(normalizeScopes(once), once)
      assert.equal(new Set(once).size, once.length)
      for (const s of once) {
        assert.ok(s !== '' && !/\s/.test(s))
        assert.ok(input.some((given) => given.split(/\s+/).includes(s)))
      }
    }),
  )
})
