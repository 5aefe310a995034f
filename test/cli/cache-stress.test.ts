/**
 * The token cache file under stress: many writers at once, damaged files of every shape, and a
 * directory msal-ts may not write to. Whatever happens, no entry is lost and the run goes on.
 */
import assert from 'node:assert/strict'
import { chmod, chown, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, withoutCaFile, run, tempDir } from './harness.js'

/** How many processes write one cache file at once, each for its own scope. */
const writers = 50

/** Damaged cache files: each is kept aside and reported, and the run gets its token. */
const damaged: [name: string, content: string | Buffer][] = [
  ['truncated JSON', '{"AccessToken": {"k": {"secret": "abc'],
  ['not JSON at all', 'this is not a token cache'],
  ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ['a JSON array', '[]'],
  ['JSON null', 'null'],
  ['a JSON number', '42'],
  ['a JSON string', '"AccessToken"'],
  ['a section that is a number', '{"AccessToken": 5}'],
  ['a section that is an array', '{"RefreshToken": []}'],
  ['a section that is null', '{"Account": null}'],
]

interface CacheDoc {
  AccessToken: Record<string, { target: string; secret: string }>
}

describe('the token cache under stress', () => {
  let sts: Sts
  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())

  const clientToken = (cacheFile: string, scope: string) => [
    'client-token',
    ...sts.cliArgs(sts.defaults.confidentialClientId),
    '--cache-file',
    cacheFile,
    '--scope',
    scope,
  ]
  const env = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  test(`${writers} processes writing one cache file at once, each a different scope: every entry is there`, async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'shared', 'tokens.json')
    const scopes = Array.from({ length: writers }, (_, i) => `api://writer-${i}/.default`)
    const results = await Promise.all(
      scopes.map((scope) => run(home, clientToken(cacheFile, scope), { env: env() })),
    )
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stderr, '')
    }
    const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as CacheDoc
    const entries = Object.values(doc.AccessToken)
    assert.deepEqual(entries.map((at) => at.target).sort(), [...scopes].sort())
    assert.deepEqual(
      new Set(entries.map((at) => `${at.secret}\n`)),
      new Set(results.map((r) => r.stdout)),
      'each process printed the token it stored',
    )
    assert.deepEqual(
      (await readdir(join(home, 'shared'))).sort(),
      ['msal-ts.http-cache.json', 'tokens.json'],
      'no lock or temp file left',
    )
  })

  for (const [name, content] of damaged) {
    test(`a cache file holding ${name} is kept aside, reported once, and the run gets its token`, async () => {
      const home = await tempDir()
      const cacheFile = join(home, 'tokens.json')
      await writeFile(cacheFile, content)
      const result = await run(home, clientToken(cacheFile, 'api://damaged/.default'), {
        env: env(),
      })
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^eyJ[\w.-]+\n$/)
      assertNoStack(result.stderr)
      assert.match(
        result.stderr,
        /^msal-ts: warning: cache file .*tokens\.json .+; moved it to .*tokens\.json\.corrupt-\d{8}T\d{6}Z and started afresh\n$/,
      )
      const aside = (await readdir(home)).filter((n) => n.startsWith('tokens.json.corrupt-'))
      assert.equal(aside.length, 1)
      assert.deepEqual(await readFile(join(home, aside[0] ?? '')), Buffer.from(content))
      const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as CacheDoc
      assert.equal(Object.keys(doc.AccessToken).length, 1)
    })
  }

  test('an empty cache file is an empty cache, as MSAL Python reads it: no warning', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'tokens.json')
    await writeFile(cacheFile, '')
    const result = await run(home, clientToken(cacheFile, 'api://empty/.default'), { env: env() })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.deepEqual(await readdir(home), ['msal-ts.http-cache.json', 'tokens.json'])
  })

  test('a read-only cache directory: a warning, the token still printed, the file unchanged; logout fails', async () => {
    const home = await tempDir()
    const dir = join(home, 'ro')
    const cacheFile = join(dir, 'tokens.json')
    // Root writes through any mode: the run drops to `nobody`, whose files these become.
    const asRoot = process.getuid?.() === 0
    const uid = asRoot ? { uid: 65534 } : {}
    const caFile = join(home, 'ca.pem')
    await copyFile(sts.caFile, caFile)
    const args = (scope: string) =>
      clientToken(cacheFile, scope).map((arg) => (arg === sts.caFile ? caFile : arg))
    if (asRoot) {
      await mkdir(dir)
      for (const path of [home, dir, caFile]) {
        await chown(path, 65534, 65534)
      }
    }
    const user = [
      '-c',
      sts.defaults.publicClientId,
      '-a',
      sts.authority(),
      '--ca-file',
      caFile,
      '--cache-file',
      cacheFile,
    ]
    const login = await run(
      home,
      ['login', ...user, '--username', sts.defaults.username, '--password-stdin'],
      { input: sts.defaults.password, ...uid },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const before = await readFile(cacheFile)
    await chmod(dir, 0o500)
    try {
      const result = await run(home, args('api://read-only/.default'), { env: env(), ...uid })
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^eyJ[\w.-]+\n$/)
      assertNoStack(result.stderr)
      assert.match(
        result.stderr,
        /^msal-ts: warning: tokens not cached: cannot lock cache file .*tokens\.json: permission denied\n$/,
      )
      assert.deepEqual(await readFile(cacheFile), before)

      const logout = await run(home, ['logout', ...withoutCaFile(user), '--all', '--yes'], uid)
      assert.equal(logout.exitCode, 2, 'signing out must not pretend to succeed')
      assert.match(
        logout.stderr,
        /^msal-ts: cache_file: cannot lock cache file .*: permission denied\n$/,
      )
    } finally {
      await chmod(dir, 0o700)
    }
  })
})
