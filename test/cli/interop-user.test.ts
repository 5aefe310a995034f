import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { cleanEnv, run, tempDir, withoutCaFile } from './harness.js'

const python = '/usr/bin/python3'
const script = resolve(import.meta.dirname, '../interop/msal_python_peer.py')
const userRead = 'User.Read'

interface PythonResult {
  accounts: Record<string, unknown>[]
  access_token: string | null
  token_source: string | null
  error: string | null
  error_description: string | null
  cache_changed: boolean
}

type CacheDoc = Record<string, Record<string, Record<string, unknown>>>

/** A signed-in person's cache shared between MSAL Python 1.21 and msal-ts, both ways. */
describe('a user token cache shared with MSAL Python', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())

  const common = () => sts.cliArgs(sts.defaults.publicClientId)

  async function msalPython(
    home: string,
    command: 'login' | 'silent',
    cacheFile: string,
    args: string[],
    input?: string,
  ): Promise<PythonResult> {
    const result = await execa(
      python,
      [
        script,
        command,
        cacheFile,
        sts.defaults.publicClientId,
        sts.authority(),
        sts.caFile,
        ...args,
      ],
      {
        env: cleanEnv(home),
        extendEnv: false,
        reject: false,
        ...(input !== undefined ? { input } : { stdin: 'ignore' }),
        timeout: 60_000,
      },
    )
    assert.equal(result.exitCode, 0, String(result.stderr))
    return JSON.parse(String(result.stdout)) as PythonResult
  }

  const readCache = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as CacheDoc

  /** Puts every access token of the file a minute from expiry, inside the five-minute margin. */
  async function ageAccessTokens(path: string): Promise<void> {
    const doc = await readCache(path)
    const now = Math.floor(Date.now() / 1000)
    for (const at of Object.values(doc['AccessToken'] ?? {})) {
      at['expires_on'] = String(now + 60)
    }
    await writeFile(path, JSON.stringify(doc, null, 4))
  }

  const onlySecret = (doc: CacheDoc, section: string) => {
    const entries = Object.values(doc[section] ?? {})
    assert.equal(entries.length, 1, `one ${section} entry`)
    return String(entries[0]?.['secret'])
  }

  test('an account MSAL Python signed in is used by msal-ts with no request; its refresh token too', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'msal-python-cache.json')
    const signedIn = await msalPython(
      home,
      'login',
      cacheFile,
      [sts.defaults.username, userRead],
      `${sts.defaults.password}\n`,
    )
    assert.equal(signedIn.error, null, String(signedIn.error_description))
    assert.ok(signedIn.access_token)
    const written = await readCache(cacheFile)
    assert.equal(onlySecret(written, 'AccessToken'), signedIn.access_token)

    sts.clearLog()
    const hit = await run(home, [
      'token',
      ...common(),
      '--cache-file',
      cacheFile,
      '--scope',
      userRead,
      '-o',
      'json',
    ])
    assert.equal(hit.exitCode, 0, hit.stderr)
    const out = JSON.parse(hit.stdout) as Record<string, unknown>
    assert.equal(out['access_token'], signedIn.access_token)
    assert.equal(out['token_source'], 'cache')
    assert.deepEqual(sts.log, [], 'no request at all, not even discovery')

    // The account as msal-ts lists it: get_accounts' fields; 1.21 writes no account_source.
    const accounts = await run(home, [
      'accounts',
      ...withoutCaFile(common()),
      '--cache-file',
      cacheFile,
    ])
    assert.equal(accounts.exitCode, 0, accounts.stderr)
    const [account] = JSON.parse(accounts.stdout) as Record<string, unknown>[]
    const [pythonAccount] = signedIn.accounts
    assert.deepEqual(out['account'], account)
    assert.deepEqual(account, { account_source: null, ...pythonAccount })

    // Expired: msal-ts redeems the refresh token MSAL Python stored, once, and MSAL Python
    // then finds the new token in the file msal-ts wrote.
    const pythonRt = onlySecret(written, 'RefreshToken')
    await ageAccessTokens(cacheFile)
    sts.clearLog()
    const refreshed = await run(home, [
      'token',
      ...common(),
      '--cache-file',
      cacheFile,
      '--scope',
      userRead,
    ])
    assert.equal(refreshed.exitCode, 0, refreshed.stderr)
    const posts = sts.tokenRequests()
    assert.equal(posts.length, 1)
    assert.equal(posts[0]?.form?.['grant_type'], 'refresh_token')
    assert.equal(posts[0]?.form?.['refresh_token'], pythonRt)

    sts.clearLog()
    const back = await msalPython(home, 'silent', cacheFile, ['-', '0', userRead])
    assert.equal(back.error, null, String(back.error_description))
    assert.equal(`${back.access_token}\n`, refreshed.stdout)
    assert.deepEqual(sts.tokenRequests(), [], 'MSAL Python reads the file msal-ts wrote: a hit')
  })

  test('an account msal-ts signed in is used by MSAL Python silently; its refresh token too', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'msal-ts-cache.json')
    const login = await run(
      home,
      [
        'login',
        ...common(),
        '--cache-file',
        cacheFile,
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        userRead,
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    const written = await readCache(cacheFile)
    const accessToken = onlySecret(written, 'AccessToken')

    sts.clearLog()
    const silent = await msalPython(home, 'silent', cacheFile, ['-', '0', userRead])
    assert.equal(silent.error, null, String(silent.error_description))
    assert.equal(silent.access_token, accessToken)
    assert.equal(silent.cache_changed, false)
    assert.deepEqual(
      silent.accounts.map((a) => a['username']),
      [sts.defaults.username],
    )
    assert.deepEqual(sts.tokenRequests(), [], 'no token request: a cache hit in MSAL Python')
    // Its constructor's tenant discovery is the only request.
    assert.ok(sts.log.every((entry) => entry.method === 'GET'))

    // Expired: MSAL Python redeems the refresh token msal-ts stored.
    await ageAccessTokens(cacheFile)
    sts.clearLog()
    const refreshed = await msalPython(home, 'silent', cacheFile, ['-', '0', userRead])
    assert.equal(refreshed.error, null, String(refreshed.error_description))
    assert.notEqual(refreshed.access_token, accessToken)
    const posts = sts.tokenRequests()
    assert.equal(posts.length, 1)
    assert.equal(posts[0]?.form?.['grant_type'], 'refresh_token')
    assert.equal(posts[0]?.form?.['refresh_token'], onlySecret(written, 'RefreshToken'))

    // And msal-ts finds the token MSAL Python stored, with no request.
    sts.clearLog()
    const hit = await run(home, [
      'token',
      ...common(),
      '--cache-file',
      cacheFile,
      '--scope',
      userRead,
    ])
    assert.equal(hit.exitCode, 0, hit.stderr)
    assert.equal(hit.stdout, `${refreshed.access_token}\n`)
    assert.deepEqual(sts.log, [])
  })
})
