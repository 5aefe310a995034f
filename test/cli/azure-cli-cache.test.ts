/**
 * Reusing the Azure CLI's sign-in: `~/.azure/msal_token_cache.json` is MSAL Python's
 * SerializableTokenCache JSON, written by azure-cli as client 04b07795-… (a family-of-client-ids
 * app). Here MSAL Python 1.21 signs in exactly as `az login -u … -p …` does (the password grant
 * for the ARM `.default` scope) against the test STS, where the CLI's client id is registered with
 * foci; the file then has the CLI's shape: realm = the tenant, `family_id: "1"` on the RT and the
 * AppMetadata. The one difference from a real file: the environment is the STS host `127.0.0.1`
 * rather than `login.microsoftonline.com`.
 */
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { cleanEnv, run, tempDir } from './harness.js'
import { fillIn, recipe, runShell } from './readme.js'

const python = '/usr/bin/python3'
const pythonPeer = resolve(import.meta.dirname, '../interop/msal_python_peer.py')
const azureCli = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
const azurePowerShell = '1950a258-227b-4e31-a9cf-717495945fc2'
const arm = 'https://management.core.windows.net//.default'

type CacheDoc = Record<string, Record<string, Record<string, unknown>>>

interface Signed {
  sts: Sts
  home: string
  cacheFile: string
  doc: CacheDoc
}

const readCache = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as CacheDoc
const entries = (doc: CacheDoc, section: string) => Object.values(doc[section] ?? {})
const tail = (token: unknown) =>
  typeof token === 'string' ? `…${token.slice(-10)}` : String(token)

function sameToken(actual: unknown, expected: unknown, what: string): void {
  assert.ok(actual === expected, `${what}: got ${tail(actual)}, expected ${tail(expected)}`)
}

async function azurePython(
  command: 'login' | 'silent',
  s: { sts: Sts; home: string; cacheFile: string },
  args: string[],
  input?: string,
) {
  const result = await execa(
    python,
    [pythonPeer, command, s.cacheFile, azureCli, s.sts.authority(), s.sts.caFile, ...args],
    {
      env: cleanEnv(s.home),
      extendEnv: false,
      reject: false,
      ...(input !== undefined ? { input } : { stdin: 'ignore' }),
      timeout: 60_000,
    },
  )
  assert.equal(result.exitCode, 0, String(result.stderr))
  return JSON.parse(String(result.stdout)) as { access_token: string | null; error: string | null }
}

/** `az login` with a password, as MSAL Python in the Azure CLI does it, into ~/.azure. */
async function azLogin(sts: Sts): Promise<Signed> {
  sts.addClient({ clientId: azureCli, foci: true })
  sts.addClient({ clientId: azurePowerShell, foci: true })
  const home = await tempDir()
  await mkdir(join(home, '.azure'))
  const cacheFile = join(home, '.azure', 'msal_token_cache.json')
  const s = { sts, home, cacheFile }
  const signedIn = await azurePython(
    'login',
    s,
    [sts.defaults.username, arm],
    `${sts.defaults.password}\n`,
  )
  assert.equal(signedIn.error, null)
  const doc = await readCache(cacheFile)

  // The Azure CLI's shape.
  const [rt, ...moreRts] = entries(doc, 'RefreshToken')
  assert.equal(moreRts.length, 0)
  assert.equal(rt?.['client_id'], azureCli)
  assert.equal(rt?.['family_id'], '1')
  assert.equal(rt?.['environment'], '127.0.0.1')
  assert.deepEqual(entries(doc, 'AppMetadata'), [
    { client_id: azureCli, environment: '127.0.0.1', family_id: '1' },
  ])
  const [at] = entries(doc, 'AccessToken')
  assert.equal(at?.['realm'], sts.tenantId)
  assert.equal(at?.['home_account_id'], rt?.['home_account_id'])
  return { ...s, doc }
}

const msalTs = (s: Signed, clientId: string, extra: string[] = []) =>
  run(s.home, [
    'token',
    '-c',
    clientId,
    '-a',
    s.sts.authority(),
    '--ca-file',
    s.sts.caFile,
    '--cache-file',
    s.cacheFile,
    '--scope',
    arm,
    '-o',
    'json',
    ...extra,
  ])

async function withSts(body: (sts: Sts) => Promise<void>): Promise<void> {
  const sts = await startSts()
  try {
    await body(sts)
  } finally {
    await sts.close()
  }
}

describe("the Azure CLI's token cache", { concurrency: true }, () => {
  test('msal-ts as the Azure CLI client answers from the file, then refreshes with its RT', () =>
    withSts(async (sts) => {
      const s = await azLogin(sts)
      const [cliAt] = entries(s.doc, 'AccessToken')
      const [cliRt] = entries(s.doc, 'RefreshToken')

      sts.clearLog()
      const hit = await msalTs(s, azureCli)
      assert.equal(hit.exitCode, 0, hit.stderr)
      const out = JSON.parse(hit.stdout) as Record<string, unknown>
      sameToken(out['access_token'], cliAt?.['secret'], "the CLI's access token")
      assert.equal(out['token_source'], 'cache')
      assert.deepEqual(sts.tokenRequests(), [], 'a cache hit: no token request')

      // Expired (inside the five-minute margin): one refresh with the CLI's RT.
      const doc = await readCache(s.cacheFile)
      for (const at of entries(doc, 'AccessToken')) {
        at['expires_on'] = String(Math.floor(Date.now() / 1000) + 60)
      }
      await writeFile(s.cacheFile, JSON.stringify(doc, null, 4))
      sts.clearLog()
      const refreshed = await msalTs(s, azureCli)
      assert.equal(refreshed.exitCode, 0, refreshed.stderr)
      const posts = sts.tokenRequests()
      assert.deepEqual(
        posts.map((p) => p.form?.['grant_type']),
        ['refresh_token'],
      )
      assert.equal(posts[0]?.form?.['client_id'], azureCli)
      sameToken(posts[0]?.form?.['refresh_token'], cliRt?.['secret'], "the CLI's RT")
      const fresh = (JSON.parse(refreshed.stdout) as Record<string, unknown>)['access_token']
      assert.notEqual(fresh, cliAt?.['secret'])

      // And the Azure CLI (MSAL Python) finds msal-ts's new token in its file.
      sts.clearLog()
      const back = await azurePython('silent', s, ['-', '0', arm])
      assert.equal(back.error, null)
      sameToken(back.access_token, fresh, "msal-ts's new token, read by the CLI")
      assert.deepEqual(sts.tokenRequests(), [])
    }))

  test("Azure PowerShell's client id, new to the file, gets a token with the CLI's family RT", () =>
    withSts(async (sts) => {
      const s = await azLogin(sts)
      const [cliRt] = entries(s.doc, 'RefreshToken')

      sts.clearLog()
      const result = await msalTs(s, azurePowerShell)
      assert.equal(result.exitCode, 0, result.stderr)
      const out = JSON.parse(result.stdout) as Record<string, unknown>
      assert.equal(out['token_source'], 'identity_provider')
      const posts = sts.tokenRequests()
      assert.deepEqual(
        posts.map((p) => p.form?.['grant_type']),
        ['refresh_token'],
      )
      assert.equal(posts[0]?.form?.['client_id'], azurePowerShell)
      sameToken(posts[0]?.form?.['refresh_token'], cliRt?.['secret'], "the CLI's family RT")

      // The second run is a cache hit for PowerShell's client id.
      sts.clearLog()
      const again = await msalTs(s, azurePowerShell)
      assert.equal(again.exitCode, 0, again.stderr)
      const outAgain = JSON.parse(again.stdout) as Record<string, unknown>
      sameToken(outAgain['access_token'], out['access_token'], 'the token it stored')
      assert.deepEqual(sts.tokenRequests(), [])
    }))

  test("the README's recipe: the CLI's refresh token gets the CLI's client id a token for another resource", () =>
    withSts(async (sts) => {
      const s = await azLogin(sts)
      const [cliRt] = entries(s.doc, 'RefreshToken')
      sts.clearLog()
      const result = await runShell(
        s.home,
        fillIn(recipe('azure-cli-cache'), { '<tenant id>': sts.tenantId }),
        // The public cloud, moved to loopback: --tenant names a tenant on it.
        { AZURE_AUTHORITY_HOST: sts.url, NODE_EXTRA_CA_CERTS: sts.caFile },
      )
      assert.equal(result.exitCode, 0, result.stderr)
      const posts = sts.tokenRequests()
      assert.deepEqual(
        posts.map((p) => [p.form?.['grant_type'], p.form?.['client_id'], p.form?.['scope']]),
        [
          [
            'refresh_token',
            azureCli,
            'https://management.azure.com/.default offline_access openid profile',
          ],
        ],
      )
      sameToken(posts[0]?.form?.['refresh_token'], cliRt?.['secret'], "the CLI's RT")
      const stored = entries(await readCache(s.cacheFile), 'AccessToken').find((at) =>
        String(at['target']).includes('https://management.azure.com/.default'),
      )
      const [, printed] = /^Authorization: Bearer (\S+)\n$/.exec(result.stdout) ?? []
      sameToken(printed, stored?.['secret'], 'the header holds the token msal-ts stored')
    }))

  test('the real environment: entries under login.microsoftonline.com answer an authority on it or on an alias, offline', () =>
    withSts(async (sts) => {
      const s = await azLogin(sts)
      const [cliAt] = entries(s.doc, 'AccessToken')
      // What the Azure CLI really writes: the same file with environment login.microsoftonline.com
      // in every entry and key.
      const real = JSON.parse(
        JSON.stringify(s.doc).replaceAll('127.0.0.1', 'login.microsoftonline.com'),
      ) as CacheDoc
      await writeFile(s.cacheFile, JSON.stringify(real, null, 4))
      sts.clearLog()
      for (const host of ['login.microsoftonline.com', 'login.windows.net']) {
        const hit = await run(
          s.home,
          [
            'token',
            '-c',
            azureCli,
            '-a',
            `https://${host}/${sts.tenantId}`,
            '--cache-file',
            s.cacheFile,
            '--scope',
            arm,
            '-o',
            'json',
          ],
          // A cache hit makes no request; anything else fails fast instead of reaching Entra.
          { env: { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' } },
        )
        assert.equal(hit.exitCode, 0, `${host}: ${hit.stderr}`)
        const out = JSON.parse(hit.stdout) as Record<string, unknown>
        sameToken(out['access_token'], cliAt?.['secret'], `${host}: the CLI's access token`)
        assert.equal(out['token_source'], 'cache')
      }
      assert.deepEqual(sts.log, [])
    }))
})
