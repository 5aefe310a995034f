/** Rows of classes 10-12: planted cache files and entries, and managed identity answers. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, chown, mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withoutCaFile } from '../harness.js'
import { anyError } from './provider-rows.js'
import {
  clientToken,
  controlCharacter,
  forgedLine,
  managedIdentity,
  readCache,
  userToken,
  type Ctx,
  type Row,
} from './row.js'

const victimText = '{"not":"yours"}\n'

/** The victim a planted symlink points at: another user's file the run must leave alone. */
async function plantVictim(ctx: Ctx): Promise<string> {
  const victim = join(ctx.dir, 'victim.json')
  await writeFile(victim, victimText)
  return victim
}

async function assertVictimUntouched(ctx: Ctx): Promise<void> {
  assert.equal(await readFile(join(ctx.dir, 'victim.json'), 'utf8'), victimText, 'victim untouched')
}

/** Moves `--cache-file` to `<dir>/<sub>/tokens.json` and returns that directory. */
async function cacheIn(ctx: Ctx, sub: string, mode: number): Promise<string> {
  const dir = join(ctx.dir, sub)
  await mkdir(dir, { recursive: true })
  await chmod(dir, mode)
  ctx.cacheFile = join(dir, 'tokens.json')
  return dir
}

const noRequest = (ctx: Ctx) =>
  assert.deepEqual(ctx.sts.tokenRequests(), [], 'refused at once, before any request')

// 10: the token cache is a regular file of the user's own.
const weapons: Row[] = [
  {
    name: 'a symlink to another file in a world-writable sticky dir: exit 1 at once, victim untouched',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: async (ctx) => {
      const victim = await plantVictim(ctx)
      await cacheIn(ctx, 'tmp', 0o1777)
      await symlink(victim, ctx.cacheFile)
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    check: async (ctx) => {
      noRequest(ctx)
      await assertVictimUntouched(ctx)
    },
  },
  {
    name: 'a dangling symlink in a world-writable dir: exit 1 at once, nothing created at its target',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: async (ctx) => {
      await cacheIn(ctx, 'tmp', 0o1777)
      await symlink(join(ctx.dir, 'created-by-victim.json'), ctx.cacheFile)
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    check: async (ctx) => {
      noRequest(ctx)
      await assert.rejects(readFile(join(ctx.dir, 'created-by-victim.json')), /ENOENT/)
    },
  },
  {
    name: 'a cache file owned by another user (nobody): exit 1 at once, the file untouched',
    class: '10 the cache file as a weapon',
    setup: async (ctx) => {
      await chown(ctx.cacheFile, 65534, 65534)
    },
    run: (ctx) => clientToken(ctx, '--force-refresh'),
    exitCode: 1,
    error: anyError,
    check: noRequest,
  },
  {
    name: 'a FIFO at the cache path: exit 1 at once, no hang',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: (ctx) => {
      execFileSync('mkfifo', ['-m', '600', ctx.cacheFile])
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    check: noRequest,
  },
  {
    // A path that names a directory is the caller's mistake, not a planted trap: cli.md's
    // "unreadable file" is exit 2, as the bad-input table has it for --cache-file.
    name: 'a directory at the cache path: exit 2 at once',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: async (ctx) => {
      await mkdir(ctx.cacheFile)
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 2,
    error: anyError,
    check: noRequest,
  },
  {
    name: '--cache-file /dev/zero (a device): exit 1 at once, memory bounded',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: (ctx) => {
      ctx.cacheFile = '/dev/zero'
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
    check: noRequest,
  },
  {
    name: 'a symlink to /dev/zero at the cache path: exit 1 at once, memory bounded',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: async (ctx) => {
      await symlink('/dev/zero', ctx.cacheFile)
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
    check: noRequest,
  },
  {
    name: 'a huge (1 GiB, sparse) cache file: exit 1, memory bounded, the file untouched',
    class: '10 the cache file as a weapon',
    warm: 'none',
    setup: async (ctx) => {
      await writeFile(ctx.cacheFile, '', { mode: 0o600 })
      await truncate(ctx.cacheFile, 1024 ** 3)
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
]

/** Rewrites one section's only entry of the warm cache, keeping the file's mode. */
async function plantEntry(
  ctx: Ctx,
  section: string,
  change: (entry: Record<string, unknown>) => void,
): Promise<void> {
  const cache = await readCache(ctx)
  for (const entry of Object.values(cache[section] ?? {})) {
    change(entry)
  }
  await writeFile(ctx.cacheFile, JSON.stringify(cache, null, 2))
}

const past = () => String(Math.floor(Date.now() / 1000) - 3600)

// 12: malformed entries are treated as absent, never served, and kept as they are.
const entries: Row[] = [
  ...(
    [
      ['expires_on "abc"', (e) => (e.expires_on = 'abc')],
      ['expires_on "1e21"', (e) => (e.expires_on = '1e21')],
      ['expires_on a number beyond any date', (e) => (e.expires_on = 1e21)],
      ['a numeric secret', (e) => (e.secret = 42)],
      ['an object secret', (e) => (e.secret = { token: 'x' })],
      ['a secret with CR/LF', (e) => (e.secret = 'a.b.c\r\nX-Injected: 1')],
      ['a secret with a C1 CSI (U+009B)', (e) => (e.secret = 'a.b.c\u009b2J')],
      ['a secret with U+FFFD', (e) => (e.secret = 'a.b.c\ufffd')],
      ['a secret with a non-ASCII letter', (e) => (e.secret = 'a.b.cé')],
      ['token_type "mac"', (e) => (e.token_type = 'mac')],
      ['token_type "Bearer x"', (e) => (e.token_type = 'Bearer x')],
    ] as [string, (entry: Record<string, unknown>) => void][]
  ).map(([what, change]): Row => ({
    name: `a cached access token with ${what}: never served, a fresh one is fetched`,
    class: '12 malformed cache entries',
    warm: 'user',
    setup: (ctx) => plantEntry(ctx, 'AccessToken', change),
    run: (ctx) => userToken(ctx, '-o', 'header'),
    exitCode: 0,
    cache: 'any',
    check: (ctx, result) => {
      assert.match(result.stdout, /^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n$/)
      assert.equal(ctx.sts.tokenRequests().length, 1, 'refreshed instead')
    },
  })),
  {
    name: 'a cached refresh token with a numeric secret (access token expired): exit 3, never sent',
    class: '12 malformed cache entries',
    warm: 'user',
    setup: async (ctx) => {
      await plantEntry(ctx, 'AccessToken', (e) => (e.expires_on = past()))
      await plantEntry(ctx, 'RefreshToken', (e) => (e.secret = 42))
    },
    run: (ctx) => userToken(ctx),
    exitCode: 3,
    error: anyError,
    check: (ctx) => assert.deepEqual(ctx.sts.tokenRequests(), [], 'no refresh with it'),
  },
  {
    name: 'a cached account with a numeric username: accounts lists no such account, the file untouched',
    class: '12 malformed cache entries',
    warm: 'user',
    setup: (ctx) => plantEntry(ctx, 'Account', (e) => (e.username = 42)),
    run: (ctx) => ({
      args: [
        'accounts',
        '-o',
        'json',
        ...withoutCaFile(ctx.sts.cliArgs(ctx.sts.defaults.publicClientId)),
        '--cache-file',
        ctx.cacheFile,
      ],
    }),
    exitCode: 0,
    check: (_ctx, result) => {
      const accounts = JSON.parse(result.stdout) as { username?: unknown }[]
      assert.ok(Array.isArray(accounts))
      assert.ok(
        accounts.every((account) => typeof account.username === 'string'),
        result.stdout,
      )
    },
  },
  {
    name: 'a cached account whose username holds ESC/CR/LF: accounts -o table prints no control byte',
    class: '8 terminal injection',
    warm: 'user',
    setup: (ctx) => plantEntry(ctx, 'Account', (e) => (e.username = forgedLine)),
    run: (ctx) => ({
      args: [
        'accounts',
        '-o',
        'table',
        ...withoutCaFile(ctx.sts.cliArgs(ctx.sts.defaults.publicClientId)),
        '--cache-file',
        ctx.cacheFile,
      ],
    }),
    exitCode: 0,
    check: (_ctx, result) => {
      assert.doesNotMatch(result.stdout, controlCharacter)
      assert.doesNotMatch(result.stdout, /^msal-ts: forged/m)
    },
  },
  {
    name: 'a section that is not an object ("AccessToken": "x"): treated as empty, the token is fetched',
    class: '12 malformed cache entries',
    setup: async (ctx) => {
      const cache = await readCache(ctx)
      await writeFile(ctx.cacheFile, JSON.stringify({ ...cache, AccessToken: 'x' }))
    },
    run: (ctx) => clientToken(ctx),
    exitCode: 0,
    cache: 'any',
    check: (_ctx, result) => assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/),
  },
]

// 11: managed identity answers are checked like any other; retries are bounded.
const miToken = (patch: Record<string, unknown>) => ({
  access_token: 'mi-at-0123456789abcdef',
  expires_on: String(Math.floor(Date.now() / 1000) + 3600),
  resource: 'https://vault.azure.net',
  token_type: 'Bearer',
  ...patch,
})
const managed: Row[] = [
  ...(
    [
      ['token_type "mac"', { token_type: 'mac' }],
      ['an access token with CR/LF', { access_token: 'mi-at\r\nX-Injected: 1' }],
      ['a token type with CR/LF', { token_type: 'Bearer\r\nX-Injected: 1' }],
      ['expires_on "1e21"', { expires_on: '1e21' }],
      ['expires_on 1e21 (a number)', { expires_on: 1e21 }],
      ['expires_on "abc"', { expires_on: 'abc' }],
      ['access_token a number', { access_token: 42 }],
    ] as [string, Record<string, unknown>][]
  ).map(([what, patch]): Row => ({
    name: `App Service answered ${what}: refused, not cached`,
    class: '11 managed identity answers',
    setup: (ctx) => ctx.mi.answer({ body: miToken(patch) }),
    run: (ctx) => managedIdentity(ctx, 'appservice'),
    exitCode: 1,
    error: anyError,
  })),
  {
    name: 'App Service answered an error whose message holds ESC/CR/LF: one line, no control byte',
    class: '11 managed identity answers',
    setup: (ctx) => ctx.mi.answer({ status: 400, body: { statusCode: 400, message: forgedLine } }),
    run: (ctx) => managedIdentity(ctx, 'appservice'),
    exitCode: 1,
    check: (_ctx, result) => assert.doesNotMatch(result.stderr, /^msal-ts: forged/m),
  },
  {
    name: 'App Service streamed a 256 MiB body: exit 1, memory bounded',
    class: '11 managed identity answers',
    setup: (ctx) => ctx.mi.answer({ stream: { chunk: ' '.repeat(65536), count: 4096 } }),
    run: (ctx) => managedIdentity(ctx, 'appservice'),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
  {
    name: 'IMDS answering 500 for good: at most 1 + 3 requests, exit 1',
    class: '11 managed identity answers',
    setup: (ctx) =>
      ctx.mi.answer({ status: 500, body: { error: 'server_error', error_description: 'down' } }),
    run: (ctx) => managedIdentity(ctx, 'imds'),
    exitCode: 1,
    error: anyError,
    check: (ctx) => {
      const tokenRequests = ctx.mi.requests.filter((r) => r.query['resource'] !== undefined)
      assert.ok(tokenRequests.length <= 4, `${tokenRequests.length} token requests`)
    },
  },
]

export const fileRows: Row[] = [...weapons, ...entries, ...managed]
