// SerializableTokenCache as a library user holds it (the built package): what it takes, what it
// reports as changed, and what it hands out.
import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { openJsonFileStore, SerializableTokenCache, UsageError } from 'msal-ts'
import { tempDir } from '../cli/harness.js'

const deep = (levels: number) => `{"Unknown":${'['.repeat(levels)}${']'.repeat(levels)}}`

test('text that is not JSON is a UsageError, not a SyntaxError', () => {
  assert.throws(
    () => new SerializableTokenCache().deserialize('{bad'),
    (error: unknown) => error instanceof UsageError && error.code === 'invalid_cache',
  )
})

test('a document nested past any cache is refused on deserialize, and serialize still works', () => {
  const cache = new SerializableTokenCache()
  for (const state of [deep(100_000), JSON.parse(deep(100_000)) as Record<string, unknown>]) {
    assert.throws(
      () => cache.deserialize(state),
      (error: unknown) => error instanceof UsageError && error.code === 'invalid_cache',
    )
  }
  cache.deserialize(deep(20))
  assert.match(cache.serialize(), /"Unknown"/)
})

test('a cache file nested that deep is moved aside as damaged, and the store reads nothing', async () => {
  const dir = await tempDir()
  const path = join(dir, 'cache.json')
  await writeFile(path, deep(100_000))
  const warnings: string[] = []
  const store = openJsonFileStore({ path, onWarning: (m) => warnings.push(m) })
  assert.equal(await store.read(), undefined)
  assert.equal(warnings.length, 1)
  assert.ok((await readdir(dir)).some((name) => name.startsWith('cache.json.corrupt-')))
})

test('removing an account the cache does not hold changes nothing', () => {
  const cache = new SerializableTokenCache()
  cache.deserialize('{}')
  cache.removeAccount({ home_account_id: 'nobody.nowhere', environment: 'login.example' }, 'cid')
  assert.equal(cache.hasStateChanged, false)
})

test('toJSON hands out a copy: editing it changes neither serialize() nor hasStateChanged', () => {
  const cache = new SerializableTokenCache()
  cache.deserialize('{"AccessToken": {}}')
  const before = cache.serialize()
  const document = cache.toJSON() as unknown as Record<string, Record<string, unknown>>
  document['AccessToken'] = { planted: { secret: 'x' } }
  assert.equal(cache.serialize(), before)
  assert.equal(cache.hasStateChanged, false)
})
