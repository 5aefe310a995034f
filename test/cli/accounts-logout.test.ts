import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, tempDir, withoutCaFile } from './harness.js'

type Section = 'AccessToken' | 'RefreshToken' | 'IdToken' | 'Account' | 'AppMetadata'
type CacheDoc = Record<Section, Record<string, Record<string, unknown>>>

/** The fields of MSAL's get_accounts(), no more and no fewer. */
const accountFields = [
  'account_source',
  'authority_type',
  'environment',
  'home_account_id',
  'local_account_id',
  'realm',
  'username',
]

describe('msal-ts accounts and logout', () => {
  let sts: Sts
  const bob = { username: 'Bob@Contoso.onmicrosoft.com', password: 'bob password 1' }
  const otherClient = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
  /** The object id the STS gives its default user. */
  const aliceUid = '9f4880d8-80ba-4c40-97bc-f7a23c703084'
  let bobUid: string

  before(async () => {
    sts = await startSts()
    bobUid = sts.addUser({ ...bob, name: 'Bob Example' }).uid
    sts.addClient({ clientId: otherClient })
  })
  after(() => sts.close())

  const common = (clientId = sts.defaults.publicClientId) => sts.cliArgs(clientId)
  const alice = () => ({ username: sts.defaults.username, password: sts.defaults.password })

  async function login(
    home: string,
    user: { username: string; password: string },
    extra: string[] = [],
  ): Promise<void> {
    const result = await run(
      home,
      ['login', ...common(), '--username', user.username, '--password-stdin', ...extra],
      { input: `${user.password}\n` },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  /** Alice and Bob signed in, each with a Graph token. */
  async function twoAccounts(): Promise<string> {
    const home = await tempDir()
    await login(home, alice(), ['--scope', 'User.Read'])
    await login(home, bob, ['--scope', 'User.Read'])
    return home
  }

  async function cacheFile(home: string): Promise<string> {
    const dir = join(home, 'cache')
    const files = (await readdir(dir)).filter((f) => f.startsWith('token-cache.'))
    assert.equal(files.length, 1, files.join(', '))
    return join(dir, files[0] ?? '')
  }

  async function readCache(path: string): Promise<CacheDoc> {
    return JSON.parse(await readFile(path, 'utf8')) as CacheDoc
  }

  /** home_account_id of each entry of a section. */
  const owners = (doc: CacheDoc, section: Section) =>
    Object.values(doc[section])
      .map((e) => String(e['home_account_id']))
      .sort()

  test('accounts -o json: exactly the fields of get_accounts, one object per account', async () => {
    const home = await twoAccounts()
    const result = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    const accounts = JSON.parse(result.stdout) as Record<string, unknown>[]
    assert.equal(accounts.length, 2)
    for (const account of accounts) {
      assert.deepEqual(Object.keys(account).sort(), accountFields)
    }
    const byName = new Map(accounts.map((a) => [String(a['username']).toLowerCase(), a]))
    const aliceAccount = byName.get(sts.defaults.username)
    assert.deepEqual(aliceAccount, {
      home_account_id: `${aliceUid}.${sts.tenantId}`,
      environment: '127.0.0.1',
      username: sts.defaults.username,
      account_source: 'password',
      authority_type: 'MSSTS',
      local_account_id: aliceUid,
      realm: sts.tenantId,
    })
    assert.equal(
      byName.get(bob.username.toLowerCase())?.['home_account_id'],
      `${bobUid}.${sts.tenantId}`,
    )
    assert.equal(byName.get(bob.username.toLowerCase())?.['username'], bob.username)

    // Piped, the default is JSON as well.
    const piped = await run(home, ['accounts', ...withoutCaFile(common())])
    assert.deepEqual(JSON.parse(piped.stdout), accounts)

    const empty = await run(await tempDir(), ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    assert.equal(empty.exitCode, 0, empty.stderr)
    assert.deepEqual(JSON.parse(empty.stdout), [])
  })

  test('accounts --username matches in any case', async () => {
    const home = await twoAccounts()
    const upper = await run(home, [
      'accounts',
      ...withoutCaFile(common()),
      '-o',
      'json',
      '--username',
      bob.username.toUpperCase(),
    ])
    assert.equal(upper.exitCode, 0, upper.stderr)
    const found = JSON.parse(upper.stdout) as Record<string, unknown>[]
    assert.deepEqual(
      found.map((a) => a['username']),
      [bob.username],
    )
    const none = await run(home, [
      'accounts',
      ...withoutCaFile(common()),
      '-o',
      'json',
      '--username',
      'carol@x',
    ])
    assert.deepEqual(JSON.parse(none.stdout), [])
  })

  test('accounts -o table: a header row and one row per account', async () => {
    const home = await twoAccounts()
    const result = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'table'])
    assert.equal(result.exitCode, 0, result.stderr)
    const lines = result.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 3, result.stdout)
    assert.match(lines[0] ?? '', /^USERNAME\s+HOME ACCOUNT ID\s+ENVIRONMENT\s+TENANT$/)
    const rows = lines.slice(1).map((line) => line.split(/\s+/))
    assert.deepEqual(rows.map((r) => r[0]).sort(), [bob.username, sts.defaults.username].sort())
    for (const row of rows) {
      assert.equal(row.length, 4, row.join(' '))
      assert.match(row[1] ?? '', new RegExp(`^[0-9a-f-]{36}\\.${sts.tenantId}$`))
      assert.equal(row[2], '127.0.0.1')
      assert.equal(row[3], sts.tenantId)
    }
  })

  test("logout --account --yes removes that account's tokens and keeps the other's", async () => {
    const home = await twoAccounts()
    const path = await cacheFile(home)
    const before = await readCache(path)
    const bobHome = `${bobUid}.${sts.tenantId}`
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account'] as const) {
      assert.equal(owners(before, section).length, 2, section)
    }
    sts.clearLog()
    const result = await run(home, [
      'logout',
      ...withoutCaFile(common()),
      '--account',
      bob.username.toLowerCase(),
      '--yes',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^Signed out Bob@Contoso\.onmicrosoft\.com\n$/)
    assert.deepEqual(sts.log, [], 'signing out is local')

    const afterDoc = await readCache(path)
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account'] as const) {
      const left = owners(afterDoc, section)
      assert.equal(left.length, 1, section)
      assert.notEqual(left[0], bobHome, section)
      // Alice's entries are untouched, key and value.
      for (const [key, entry] of Object.entries(afterDoc[section])) {
        assert.deepEqual(entry, before[section][key], `${section} ${key}`)
      }
    }
    assert.deepEqual(afterDoc.AppMetadata, before.AppMetadata, 'AppMetadata is kept')
    assert.equal((await stat(path)).mode & 0o777, 0o600)

    const accounts = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    assert.deepEqual(
      (JSON.parse(accounts.stdout) as { username: string }[]).map((a) => a.username),
      [sts.defaults.username],
    )
    // The only account left needs no --account.
    const token = await run(home, ['token', ...common(), '--scope', 'User.Read'])
    assert.equal(token.exitCode, 0, token.stderr)
  })

  test('logout --account takes a home account id too', async () => {
    const home = await twoAccounts()
    const aliceHome = `${aliceUid}.${sts.tenantId}`
    const result = await run(home, [
      'logout',
      ...withoutCaFile(common()),
      '--account',
      `${bobUid}.${sts.tenantId}`.toUpperCase(),
      '--yes',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const doc = await readCache(await cacheFile(home))
    assert.deepEqual(owners(doc, 'Account'), [aliceHome])
  })

  test('logout --all without a terminal asks nothing and empties the accounts', async () => {
    const home = await twoAccounts()
    const path = await cacheFile(home)
    const result = await run(home, ['logout', ...withoutCaFile(common()), '--all'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^Signed out .+, .+\n$/)
    const doc = await readCache(path)
    for (const section of ['AccessToken', 'RefreshToken', 'IdToken', 'Account'] as const) {
      assert.deepEqual(doc[section], {}, section)
    }
    assert.equal(Object.keys(doc.AppMetadata).length, 1)
    assert.equal((await stat(path)).mode & 0o777, 0o600)

    const again = await run(home, ['logout', ...withoutCaFile(common()), '--all'])
    assert.equal(again.exitCode, 0, again.stderr)
    assert.equal(again.stderr, 'No account is signed in.\n')
    const token = await run(home, ['token', ...common(), '--scope', 'User.Read'])
    assert.equal(token.exitCode, 3)
  })

  test('logout of an account that is not signed in: like rm -f, exit 0, a note, the cache untouched', async () => {
    const home = await twoAccounts()
    const path = await cacheFile(home)
    const before = await readFile(path, 'utf8')
    const result = await run(home, [
      'logout',
      ...withoutCaFile(common()),
      '--account',
      'carol@contoso.onmicrosoft.com',
      '--yes',
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, 'carol@contoso.onmicrosoft.com is not signed in; nothing to do.\n')
    assert.equal(await readFile(path, 'utf8'), before)

    await run(home, ['logout', ...withoutCaFile(common()), '--all'])
    const nobody = await run(home, ['logout', ...withoutCaFile(common())])
    assert.equal(nobody.exitCode, 0, nobody.stderr)
    assert.equal(nobody.stdout, '')
    assert.equal(nobody.stderr, 'No account is signed in.\n')
    assert.doesNotMatch(nobody.stderr, /msal-ts login/)
  })

  test('accounts and logout refuse --no-cache and do not list it: they act on the real cache only', async () => {
    const home = await twoAccounts()
    const path = await cacheFile(home)
    const before = await readFile(path, 'utf8')
    for (const args of [
      ['accounts', ...withoutCaFile(common()), '--no-cache'],
      ['logout', ...withoutCaFile(common()), '--no-cache', '--all'],
    ]) {
      const result = await run(home, args)
      assert.equal(result.exitCode, 2, args.join(' '))
      assert.equal(result.stdout, '')
      // The second line names the commands --no-cache acts in.
      assert.match(
        result.stderr,
        /^msal-ts: [\w-]+: .*--no-cache.*\n\(--no-cache acts only in .+\)\n$/,
      )
      const help = await run(home, [args[0] ?? '', '--help'])
      assert.doesNotMatch(help.stdout, /--no-cache/)
    }
    assert.equal(await readFile(path, 'utf8'), before)
    const listed = await run(home, ['accounts', ...withoutCaFile(common()), '-o', 'json'])
    assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 2)
  })

  test('logout with several accounts and neither --account nor --all: exit 2, nothing removed', async () => {
    const home = await twoAccounts()
    const path = await cacheFile(home)
    const before = await readFile(path, 'utf8')
    const result = await run(home, ['logout', ...withoutCaFile(common()), '--yes'])
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /^msal-ts: several_accounts: /)
    assert.ok(result.stderr.includes(bob.username) && result.stderr.includes(sts.defaults.username))
    const both = await run(home, [
      'logout',
      ...withoutCaFile(common()),
      '--all',
      '--account',
      bob.username,
    ])
    assert.equal(both.exitCode, 2)
    assert.match(both.stderr, /^msal-ts: conflicting_options: /)
    assert.equal(await readFile(path, 'utf8'), before)
  })

  test("in a shared cache file, logout removes the account's tokens of every app but the RTs of this app only", async () => {
    const home = await tempDir()
    const shared = join(home, 'shared-cache.json')
    const signIn = async (clientId: string) => {
      const result = await run(
        home,
        [
          'login',
          ...common(clientId),
          '--cache-file',
          shared,
          '--username',
          sts.defaults.username,
          '--password-stdin',
          '--scope',
          'User.Read',
        ],
        { input: sts.defaults.password },
      )
      assert.equal(result.exitCode, 0, result.stderr)
    }
    await signIn(sts.defaults.publicClientId)
    await signIn(otherClient)
    const before = await readCache(shared)
    assert.equal(Object.keys(before.RefreshToken).length, 2)

    const result = await run(home, [
      'logout',
      ...withoutCaFile(common()),
      '--cache-file',
      shared,
      '--account',
      sts.defaults.username,
    ])
    assert.equal(result.exitCode, 0, result.stderr)
    const doc = await readCache(shared)
    assert.deepEqual(doc.AccessToken, {}, 'access tokens of any client go')
    assert.deepEqual(doc.IdToken, {}, 'ID tokens of any client go')
    assert.deepEqual(doc.Account, {})
    assert.deepEqual(
      Object.values(doc.RefreshToken).map((rt) => rt['client_id']),
      [otherClient],
      "the other app's refresh token stays",
    )
    assert.deepEqual(doc.AppMetadata, before.AppMetadata)
    assert.equal((await stat(shared)).mode & 0o777, 0o600)
  })
})
