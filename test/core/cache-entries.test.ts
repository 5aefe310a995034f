import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { UnsafeFile, readFileSafely } from '../../src/core/kernel/safe-file.js'
import {
  isAccessToken,
  isAccount,
  isAppMetadata,
  isIdToken,
  isRefreshToken,
} from '../../src/core/token-cache/schema.js'
import { SerializableTokenCache } from '../../src/core/token-cache/token-cache.js'

const at = {
  credential_type: 'AccessToken',
  secret: 'eyJ.a.b',
  home_account_id: 'uid.utid',
  environment: 'login.microsoftonline.com',
  client_id: 'app',
  realm: 'contoso',
  target: 'User.Read',
  token_type: 'Bearer',
  cached_at: '1700000000',
  expires_on: '1700003600',
  extended_expires_on: '1700003600',
}

test('an access token as MSAL Python, msal-node or msal-ts writes it is read', () => {
  assert.ok(isAccessToken(at))
  assert.ok(isAccessToken({ ...at, home_account_id: null }), 'app-only, MSAL Python')
  assert.ok(isAccessToken({ ...at, home_account_id: '' }), 'app-only, msal-node')
  assert.ok(isAccessToken({ ...at, expires_on: 1700003600 }), 'epoch seconds as a number')
  assert.ok(isAccessToken({ ...at, refresh_on: '1700001800', key_id: 'k' }))
  const bare: Record<string, unknown> = { ...at }
  delete bare['token_type']
  delete bare['cached_at']
  assert.ok(isAccessToken(bare), 'optional fields may be absent')
})

test('an access token with any field the code reads malformed is not', () => {
  for (const [field, value] of Object.entries({
    secret: {},
    expires_on: 'abc',
    cached_at: '1.5',
    extended_expires_on: -1,
    refresh_on: null,
    environment: 7,
    client_id: undefined,
    realm: [],
    target: 42,
    token_type: 'Bearer\r\nX-Forged: 1',
    key_id: 1,
    home_account_id: 5,
  })) {
    assert.equal(
      isAccessToken({ ...at, [field]: value }),
      false,
      `${field}: ${JSON.stringify(value)}`,
    )
  }
  assert.equal(isAccessToken({ ...at, secret: '' }), false)
  assert.equal(isAccessToken({ ...at, secret: 'a\u0000b' }), false)
  assert.equal(isAccessToken({ ...at, expires_on: '99999999999999999999' }), false)
  assert.equal(isAccessToken([]), false)
})

test('refresh tokens, ID tokens, accounts and app metadata are checked field by field', () => {
  const rt = {
    credential_type: 'RefreshToken',
    secret: 'rt',
    home_account_id: 'uid.utid',
    environment: 'login.microsoftonline.com',
    client_id: 'app',
    target: 'User.Read',
    last_modification_time: '1700000000',
  }
  assert.ok(isRefreshToken(rt))
  assert.ok(isRefreshToken({ ...rt, family_id: '1' }))
  assert.equal(isRefreshToken({ ...rt, secret: 5 }), false)
  assert.equal(isRefreshToken({ ...rt, last_modification_time: 'yesterday' }), false)
  assert.equal(isRefreshToken({ ...rt, family_id: 1 }), false)

  const idt = { ...rt, credential_type: 'IdToken', realm: 'contoso' }
  assert.ok(isIdToken(idt))
  assert.equal(isIdToken({ ...idt, realm: undefined }), false)

  const account = {
    home_account_id: 'uid.utid',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    local_account_id: 'oid',
    username: 'a@b',
    authority_type: 'MSSTS',
    account_source: 'password',
  }
  assert.ok(isAccount(account))
  assert.ok(isAccount({ ...account, account_source: null }))
  assert.equal(isAccount({ ...account, username: 42 }), false)
  assert.equal(isAccount({ ...account, name: {} }), false)

  assert.ok(isAppMetadata({ client_id: 'app', environment: 'e', family_id: null }))
  assert.equal(isAppMetadata({ client_id: 'app', environment: 'e', family_id: 1 }), false)
})

test('a malformed entry is absent to every lookup and kept when the cache changes', () => {
  const cache = new SerializableTokenCache()
  const bad = { ...at, expires_on: 'abc' }
  const badAccount = {
    home_account_id: 'uid.utid',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    local_account_id: 'oid',
    username: 42,
    authority_type: 'MSSTS',
  }
  cache.deserialize({ AccessToken: { planted: bad }, Account: { planted: badAccount } })
  const query = {
    clientId: 'app',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    homeAccountId: 'uid.utid',
    scopes: ['User.Read'],
  }
  assert.deepEqual(cache.findAccessTokens(query), [])
  assert.deepEqual(cache.accounts('login.microsoftonline.com'), [])
  cache.removeAccount(
    { home_account_id: 'uid.utid', environment: 'login.microsoftonline.com' },
    'app',
  )
  cache.add({
    clientId: 'app',
    environment: 'login.microsoftonline.com',
    realm: 'contoso',
    scopes: ['User.Read'],
    response: { access_token: 'new', expires_in: 3600 },
    grantType: 'client_credentials',
    now: 1_800_000_000,
  })
  const doc = JSON.parse(cache.serialize()) as { AccessToken: object; Account: object }
  assert.deepEqual((doc.AccessToken as Record<string, unknown>)['planted'], bad)
  assert.deepEqual((doc.Account as Record<string, unknown>)['planted'], badAccount)
})

const dir = await mkdtemp(join(tmpdir(), 'msal-ts-safe-file-'))
after(() => rm(dir, { recursive: true, force: true }))

test('readFileSafely reads a regular file, and nothing for a missing one', async () => {
  const file = join(dir, 'plain')
  await writeFile(file, 'text')
  assert.equal(readFileSafely(file, { maxBytes: 10, ownFile: true }), 'text')
  assert.equal(readFileSafely(join(dir, 'missing'), { maxBytes: 10 }), undefined)
})

test('readFileSafely refuses a FIFO, a directory, a big file and a link in an open directory', async () => {
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  const big = join(dir, 'big')
  await writeFile(big, 'x'.repeat(11))
  const open = join(dir, 'open')
  await mkdir(open)
  await chmod(open, 0o1777)
  await symlink(big, join(open, 'link'))
  for (const [path, reason] of [
    [fifo, /not a regular file/],
    [dir, /directory/],
    [big, /larger than/],
    [join(open, 'link'), /symbolic link in .*other users can write/],
  ] as const) {
    assert.throws(
      () => readFileSafely(path, { maxBytes: 10, ownFile: true }),
      (error: unknown) => error instanceof UnsafeFile && reason.test(error.reason),
    )
  }
})
