/**
 * One token cache file shared by msal-ts, MSAL Python 1.21 and msal-node 3.x, every way round:
 * each writes the file by getting tokens from the test STS, each of the others then gets a silent
 * cache hit (no token request) and forces one refresh from what the writer stored.
 *
 * Where they differ (behavior.md §16): msal-node writes environment `127.0.0.1:<port>` (its
 * preferred cache host, the loopback analogue of login.windows.net), realm = `tid`, 8-part keys
 * and `""` as the app-only home id; msal-ts and MSAL Python write `127.0.0.1` (the authority's
 * host). Reading across those needs environment aliases.
 *
 * Last, msal-ts's PoP tokens, in a section of their own beside its bearer tokens: the peers never
 * answer a bearer request with one, and keep the section when they write the file.
 *
 * Each test runs its own STS, so the tests run concurrently and each STS log is its own.
 */
import assert from 'node:assert/strict'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { execa } from 'execa'
import { decodeJwt } from 'jose'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { cleanEnv, run, tempDir } from './harness.js'

const python = '/usr/bin/python3'
const pythonPeer = resolve(import.meta.dirname, '../interop/msal_python_peer.py')
const nodePeer = resolve(import.meta.dirname, '../interop/msal_node_peer.ts')
const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx')
const userRead = 'User.Read'
const graphDefault = 'https://graph.microsoft.com/.default'

type Tool = 'msal-ts' | 'msal-python' | 'msal-node'
const tools: Tool[] = ['msal-ts', 'msal-python', 'msal-node']
type CacheDoc = Record<string, Record<string, Record<string, unknown>>>

interface Outcome {
  accessToken: string | null
  error: string | null
}

interface User {
  username: string
  password: string
}

/** Where a tool talks to: an STS, one of its clients, and the cache file. */
interface Target {
  sts: Sts
  clientId: string
  cacheFile: string
  home: string
}

async function peer(command: string, args: string[], home: string, input?: string) {
  const [file, argv] =
    command === 'python' ? [python, [pythonPeer, ...args]] : [tsx, [nodePeer, ...args]]
  const result = await execa(file, argv, {
    env: cleanEnv(home),
    extendEnv: false,
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
    timeout: 60_000,
  })
  assert.equal(result.exitCode, 0, `${command} peer: ${String(result.stderr)}`)
  const out = JSON.parse(String(result.stdout)) as {
    access_token: string | null
    error: string | null
    error_description?: string | null
  }
  const error = out.error === null ? null : `${out.error} ${out.error_description ?? ''}`.trim()
  return { accessToken: out.access_token, error }
}

const peerArgs = (t: Target, command: string) => [
  command,
  t.cacheFile,
  t.clientId,
  t.sts.authority(),
  t.sts.caFile,
]

const tsCommon = (t: Target) => [
  '-c',
  t.clientId,
  '-a',
  t.sts.authority(),
  '--ca-file',
  t.sts.caFile,
  '--cache-file',
  t.cacheFile,
]

function tsOutcome(result: Awaited<ReturnType<typeof run>>): Outcome {
  return result.exitCode === 0
    ? { accessToken: result.stdout.trim(), error: null }
    : { accessToken: null, error: result.stderr.trim() }
}

/** Signs `user` in with the password grant and stores the result in the target's file. */
async function login(tool: Tool, t: Target, user: User, scopes: string[]): Promise<Outcome> {
  const input = `${user.password}\n`
  if (tool === 'msal-ts') {
    const scopeArgs = scopes.flatMap((s) => ['--scope', s])
    const args = ['login', ...tsCommon(t), '--username', user.username, '--password-stdin']
    const result = await run(t.home, [...args, ...scopeArgs], { input })
    return result.exitCode === 0
      ? { accessToken: null, error: null }
      : { accessToken: null, error: result.stderr }
  }
  const args = [...peerArgs(t, 'login'), user.username, ...scopes]
  return peer(tool === 'msal-python' ? 'python' : 'node', args, t.home, input)
}

/** A silent token for the account `username` (or the only one), optionally forcing a refresh. */
async function silent(
  tool: Tool,
  t: Target,
  username: string | undefined,
  scopes: string[],
  force = false,
): Promise<Outcome> {
  if (tool === 'msal-ts') {
    const args = ['token', ...tsCommon(t), ...scopes.flatMap((s) => ['--scope', s])]
    if (username !== undefined) {
      args.push('--account', username)
    }
    if (force) {
      args.push('--force-refresh')
    }
    return tsOutcome(await run(t.home, args))
  }
  const args = [...peerArgs(t, 'silent'), username ?? '-', force ? '1' : '0', ...scopes]
  return peer(tool === 'msal-python' ? 'python' : 'node', args, t.home)
}

/** An app-only token: from the cache when there is one, unless forced. */
async function client(tool: Tool, t: Target, scope: string, force = false): Promise<Outcome> {
  const secret = t.sts.defaults.clientSecret
  if (tool === 'msal-ts') {
    const args = ['client-token', ...tsCommon(t), '--scope', scope]
    if (force) {
      args.push('--force-refresh')
    }
    return tsOutcome(await run(t.home, args, { env: { AZURE_CLIENT_SECRET: secret } }))
  }
  const args = [...peerArgs(t, 'client'), secret, force ? '1' : '0', scope]
  return peer(tool === 'msal-python' ? 'python' : 'node', args, t.home)
}

const readCache = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as CacheDoc

/** The secrets of one section's entries matching `where`. */
function secrets(doc: CacheDoc, section: string, where: Record<string, unknown> = {}): string[] {
  return Object.values(doc[section] ?? {})
    .filter((entry) => Object.entries(where).every(([k, v]) => entry[k] === v))
    .map((entry) => String(entry['secret']))
}

/** The end of a token: enough to tell two apart in a failure message. */
const tail = (token: string | null | undefined) => (token ? `…${token.slice(-10)}` : String(token))

function sameToken(actual: unknown, expected: unknown, what: string): void {
  assert.ok(
    actual === expected,
    `${what}: got ${tail(actual as string)}, expected ${tail(expected as string)}`,
  )
}

function assertOk(outcome: Outcome, what: string): string {
  assert.equal(outcome.error, null, `${what}: ${outcome.error}`)
  assert.ok(outcome.accessToken, `${what}: an access token`)
  return outcome.accessToken
}

function assertNoTokenRequest(sts: Sts, what: string): void {
  assert.deepEqual(
    sts.tokenRequests().map((r) => r.form?.['grant_type']),
    [],
    `${what}: a cache hit makes no token request`,
  )
}

/** Exactly one token request, of this grant, and returns its form. */
function oneTokenRequest(sts: Sts, grant: string, what: string): Record<string, string> {
  const posts = sts.tokenRequests()
  assert.deepEqual(
    posts.map((r) => r.form?.['grant_type']),
    [grant],
    `${what}: one ${grant} request`,
  )
  return posts[0]?.form ?? {}
}

/**
 * Cells the peers themselves cannot do, not msal-ts, are left out of the matrix; why is recorded
 * here. Keyed `scenario:writer>reader`.
 */
const pythonPort =
  'MSAL Python 1.21 keys by the host without its port (canonicalize() keeps .hostname) and builds ' +
  "every alias authority the same way, so it never matches msal-node's 127.0.0.1:<port> entries " +
  '(with login.microsoftonline.com / login.windows.net, which have no port, its alias fallback works)'
const familyNode =
  'msal-node 3.8 getAllAccounts() gives app B no account (no ID token of its own client id), and ' +
  'RefreshTokenClient tries a family RT only when isAppMetadataFOCI() finds its own AppMetadata ' +
  'with a family id: an app new to the cache never uses one'
const nodeAppOnly =
  'msal-node ClientCredentialClient looks app-only tokens up under its own environment only ' +
  '(authority HostNameAndPort, 127.0.0.1:<port>), with no alias fallback'
const limitations: Record<string, string> = {
  'user:msal-node>msal-python': pythonPort,
  'tenants:msal-node>msal-python': pythonPort,
  'foci:msal-node>msal-python': pythonPort,
  'app:msal-node>msal-python':
    'MSAL Python 1.21 looks app-only tokens up with home_account_id null, msal-node writes ""; ' +
    `and ${pythonPort}`,
  'app:msal-ts>msal-node': nodeAppOnly,
  'app:msal-python>msal-node': nodeAppOnly,
  'foci:msal-ts>msal-node': familyNode,
  'foci:msal-python>msal-node': familyNode,
}
const allPairs = tools.flatMap((writer) =>
  tools.filter((reader) => reader !== writer).map((reader) => [writer, reader] as const),
)
const pairs = (scenario: string) =>
  allPairs.filter(
    ([writer, reader]) => limitations[`${scenario}:${writer}>${reader}`] === undefined,
  )

async function newTarget(sts: Sts, clientId = sts.defaults.publicClientId): Promise<Target> {
  const home = await tempDir()
  return { sts, clientId, home, cacheFile: join(home, 'cache.json') }
}

/** Runs `body` with a fresh STS, closed afterwards. */
async function withSts<T>(body: (sts: Sts) => Promise<T>, tenantId?: string): Promise<T> {
  const sts = await startSts(tenantId === undefined ? {} : { tenantId })
  try {
    return await body(sts)
  } finally {
    await sts.close()
  }
}

describe('interop matrix: a user account', { concurrency: true }, () => {
  for (const [writer, reader] of pairs('user')) {
    test(`${writer} signs in; ${reader} gets a cache hit, then refreshes with its RT`, () =>
      withSts(async (sts) => {
        const t = await newTarget(sts)
        const user = { username: sts.defaults.username, password: sts.defaults.password }
        const signedIn = await login(writer, t, user, [userRead])
        assert.equal(signedIn.error, null, `${writer} login: ${signedIn.error}`)
        const written = await readCache(t.cacheFile)
        const [writtenAt] = secrets(written, 'AccessToken')
        const [writtenRt] = secrets(written, 'RefreshToken')

        sts.clearLog()
        const hit = assertOk(await silent(reader, t, user.username, [userRead]), `${reader} hit`)
        sameToken(hit, writtenAt, `${reader} returns the token ${writer} stored`)
        assertNoTokenRequest(sts, reader)

        sts.clearLog()
        const fresh = assertOk(
          await silent(reader, t, user.username, [userRead], true),
          `${reader} refresh`,
        )
        assert.notEqual(fresh, writtenAt)
        const form = oneTokenRequest(sts, 'refresh_token', reader)
        sameToken(form['refresh_token'], writtenRt, `${reader} redeems ${writer}'s RT`)
      }))
  }
})

describe('interop matrix: an app-only token', { concurrency: true }, () => {
  for (const [writer, reader] of pairs('app')) {
    test(`${writer} gets a client-credential token; ${reader} gets it from the cache, then a new one`, () =>
      withSts(async (sts) => {
        const t = await newTarget(sts, sts.defaults.confidentialClientId)
        const first = assertOk(await client(writer, t, graphDefault), `${writer} client`)
        oneTokenRequest(sts, 'client_credentials', writer)
        const written = await readCache(t.cacheFile)
        assert.ok(secrets(written, 'AccessToken').includes(first), `${writer} stores the token`)

        sts.clearLog()
        const hit = assertOk(await client(reader, t, graphDefault), `${reader} hit`)
        sameToken(hit, first, `${reader} returns the app token ${writer} stored`)
        assertNoTokenRequest(sts, reader)

        // No refresh token for app-only tokens: "forcing a refresh" is a new client-credential
        // request, and the file then holds the reader's new token.
        sts.clearLog()
        const fresh = assertOk(await client(reader, t, graphDefault, true), `${reader} forced`)
        assert.notEqual(fresh, first)
        oneTokenRequest(sts, 'client_credentials', reader)
        assert.ok(secrets(await readCache(t.cacheFile), 'AccessToken').includes(fresh))
      }))
  }
})

const secondTenant = 'a1b2c3d4-0000-4000-8000-00000000b0b0'

/**
 * The test STS serves one tenant (plus the MSA `/consumers` one), so two tenants means two STS
 * instances: `127.0.0.1:<a>/<tenant A>` and `127.0.0.1:<b>/<tenant B>`. msal-ts and MSAL Python
 * key both under environment `127.0.0.1` and tell them apart by realm; msal-node by host:port.
 */
describe('interop matrix: two accounts in two tenants', { concurrency: true }, () => {
  for (const [writer, reader] of pairs('tenants')) {
    test(`${writer} signs in two people in two tenants; ${reader} gets both from the cache, then refreshes each`, () =>
      withSts((stsA) =>
        withSts(async (stsB) => {
          const home = await tempDir()
          const cacheFile = join(home, 'cache.json')
          const bob = { username: 'bob@fabrikam.onmicrosoft.com', password: 'bob pw 2' }
          stsB.addUser({ ...bob, name: 'Bob Example' })
          const sides = [
            {
              t: { sts: stsA, clientId: stsA.defaults.publicClientId, home, cacheFile },
              user: { username: stsA.defaults.username, password: stsA.defaults.password },
            },
            {
              // the same client id in the second tenant, as a multi-tenant app
              t: { sts: stsB, clientId: stsA.defaults.publicClientId, home, cacheFile },
              user: bob,
            },
          ]
          stsB.addClient({ clientId: stsA.defaults.publicClientId })
          for (const { t, user } of sides) {
            const signedIn = await login(writer, t, user, [userRead])
            assert.equal(signedIn.error, null, `${writer} login ${user.username}`)
          }
          const written = await readCache(cacheFile)
          assert.equal(Object.keys(written['Account'] ?? {}).length, 2, 'two accounts')

          for (const { t, user } of sides) {
            const tid = t.sts.tenantId
            const [writtenAt] = secrets(written, 'AccessToken', { realm: tid })
            t.sts.clearLog()
            const hit = assertOk(
              await silent(reader, t, user.username, [userRead]),
              `${reader} hit for ${user.username}`,
            )
            sameToken(hit, writtenAt, `${reader}: ${user.username}'s token from tenant ${tid}`)
            assertNoTokenRequest(t.sts, `${reader} ${user.username}`)
          }
          for (const { t, user } of sides) {
            const homeId = Object.values(written['Account'] ?? {}).find(
              (a) => a['username'] === user.username,
            )?.['home_account_id']
            const [writtenRt] = secrets(written, 'RefreshToken', { home_account_id: homeId })
            t.sts.clearLog()
            assertOk(
              await silent(reader, t, user.username, [userRead], true),
              `${reader} refresh for ${user.username}`,
            )
            const form = oneTokenRequest(t.sts, 'refresh_token', `${reader} ${user.username}`)
            sameToken(form['refresh_token'], writtenRt, `${user.username}'s own RT`)
          }
        }, secondTenant),
      ))
  }
})

const familyA = 'f0c1aaaa-0000-4000-8000-00000000000a'
const familyB = 'f0c1bbbb-0000-4000-8000-00000000000b'

describe('interop matrix: family refresh tokens', { concurrency: true }, () => {
  for (const [writer, reader] of pairs('foci')) {
    test(`${writer} signs in as family app A; ${reader} as app B, new to the cache, redeems A's family RT`, () =>
      withSts(async (sts) => {
        sts.addClient({ clientId: familyA, foci: true })
        sts.addClient({ clientId: familyB, foci: true })
        const a = await newTarget(sts, familyA)
        const user = { username: sts.defaults.username, password: sts.defaults.password }
        const signedIn = await login(writer, a, user, [userRead])
        assert.equal(signedIn.error, null, `${writer} login`)
        const written = await readCache(a.cacheFile)
        const familyRts = Object.values(written['RefreshToken'] ?? {}).filter(
          (rt) => rt['family_id'] === '1',
        )
        assert.equal(familyRts.length, 1, `${writer} stores a family RT`)

        sts.clearLog()
        const b = { ...a, clientId: familyB }
        assertOk(await silent(reader, b, user.username, [userRead]), `${reader} as app B`)
        const form = oneTokenRequest(sts, 'refresh_token', `${reader} as app B`)
        assert.equal(form['client_id'], familyB)
        sameToken(form['refresh_token'], familyRts[0]?.['secret'], "A's family RT")
      }))
  }
})

describe(
  'interop matrix: unknown sections and fields survive each writer',
  { concurrency: true },
  () => {
    const future = { 'some-key': { opaque: true, nested: { n: 1 } } }
    for (const writer of tools) {
      test(`${writer} keeps FutureSection and an unknown entry field when it writes`, () =>
        withSts(async (sts) => {
          // A file MSAL Python wrote, then a newer SDK added to.
          const t = await newTarget(sts)
          const user = { username: sts.defaults.username, password: sts.defaults.password }
          assert.equal((await login('msal-python', t, user, [userRead])).error, null)
          const doc = await readCache(t.cacheFile)
          doc['FutureSection'] = future
          const [accountKey] = Object.keys(doc['Account'] ?? {})
          const [rtKey] = Object.keys(doc['RefreshToken'] ?? {})
          assert.ok(accountKey !== undefined && rtKey !== undefined)
          const account = doc['Account']?.[accountKey]
          const rt = doc['RefreshToken']?.[rtKey]
          assert.ok(account && rt)
          account['future_field'] = 'kept'
          rt['future_field'] = 'kept too'
          await writeFile(t.cacheFile, JSON.stringify(doc, null, 4))
          const backup = join(t.home, 'before.json')
          await copyFile(t.cacheFile, backup)

          // A forced refresh: the writer rewrites the RT and saves the file.
          sts.clearLog()
          assertOk(await silent(writer, t, user.username, [userRead], true), `${writer} refresh`)
          oneTokenRequest(sts, 'refresh_token', writer)
          const after = await readCache(t.cacheFile)
          assert.notEqual(await readFile(t.cacheFile, 'utf8'), await readFile(backup, 'utf8'))
          assert.deepEqual(after['FutureSection'], future, `${writer} keeps FutureSection`)
          const accounts = Object.values(after['Account'] ?? {})
          assert.ok(
            accounts.some((a) => a['future_field'] === 'kept'),
            `${writer} keeps the unknown field of the Account entry`,
          )
          const rts = Object.values(after['RefreshToken'] ?? {})
          assert.ok(
            rts.some((r) => r['future_field'] === 'kept too'),
            `${writer} keeps the unknown field of the RefreshToken entry it rewrote`,
          )
        }))
    }
  },
)

const popSection = 'AccessToken_With_AuthScheme'

/** msal-ts's PoP token for User.Read, as the `at` of the SHR it prints. */
async function popAt(t: Target): Promise<string> {
  const args = ['token', ...tsCommon(t), '--scope', userRead]
  const pop = ['--pop-method', 'GET', '--pop-url', 'https://api.contoso.test/items']
  const shr = assertOk(tsOutcome(await run(t.home, [...args, ...pop])), 'msal-ts PoP')
  return String(decodeJwt(shr)['at'])
}

describe('interop: msal-ts PoP tokens beside bearer tokens', { concurrency: true }, () => {
  for (const reader of ['msal-python', 'msal-node'] as const) {
    test(`${reader} never takes msal-ts's PoP token for a bearer one, and keeps it when it writes`, () =>
      withSts(async (sts) => {
        const t = await newTarget(sts)
        const user = { username: sts.defaults.username, password: sts.defaults.password }
        assert.equal((await login('msal-ts', t, user, [userRead])).error, null)
        const pop = await popAt(t)
        const written = await readCache(t.cacheFile)
        const [bearer] = secrets(written, 'AccessToken')
        assert.deepEqual(secrets(written, popSection), [pop], 'the PoP token in its own section')

        // A bearer and a PoP token for the scope: the reader gets the bearer one, from the cache.
        sts.clearLog()
        const hit = assertOk(await silent(reader, t, user.username, [userRead]), `${reader} hit`)
        sameToken(hit, bearer, `${reader} returns msal-ts's bearer token`)
        assertNoTokenRequest(sts, reader)

        // Only the PoP token for the scope: the reader redeems the refresh token for a bearer one.
        const others = Object.entries(written['AccessToken'] ?? {}).filter(
          ([, at]) => at['secret'] !== bearer,
        )
        const onlyPop = { ...written, AccessToken: Object.fromEntries(others) }
        await writeFile(t.cacheFile, JSON.stringify(onlyPop, null, 4))
        sts.clearLog()
        const fresh = assertOk(
          await silent(reader, t, user.username, [userRead]),
          `${reader} without a bearer token`,
        )
        assert.notEqual(fresh, pop, `${reader} never returns the PoP token`)
        const form = oneTokenRequest(sts, 'refresh_token', reader)
        assert.equal(form['token_type'], undefined, `${reader} asks for a bearer token`)

        // The reader wrote the file; msal-ts's PoP entry is as it was, and still served.
        const after = await readCache(t.cacheFile)
        assert.ok(secrets(after, 'AccessToken').includes(fresh), `${reader} wrote the file`)
        assert.deepEqual(after[popSection], written[popSection], `${reader} keeps the PoP section`)
        sts.clearLog()
        sameToken(await popAt(t), pop, 'msal-ts serves its PoP token')
        assertNoTokenRequest(sts, 'msal-ts PoP')
      }))
  }
})
