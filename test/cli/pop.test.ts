import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
} from 'jose'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir, withoutCaFile } from './harness.js'

interface Entry {
  secret: string
  credential_type: string
  token_type?: string
  key_id?: string
  target: string
}

const userRead = 'User.Read'
const apiUrl = 'https://api.contoso.test:8443/v1/items?top=5'

/** The SHR's claims, after checking its signature with the public key it carries in cnf.jwk. */
async function verifiedShr(shr: string): Promise<Record<string, unknown>> {
  const jwk = (decodeJwt(shr)['cnf'] as { jwk: JWK }).jwk
  const { payload, protectedHeader } = await jwtVerify(shr, await importJWK(jwk, 'RS256'), {
    typ: 'pop',
  })
  assert.equal(protectedHeader.kid, await calculateJwkThumbprint(jwk))
  return payload
}

describe('msal-ts token with Proof-of-Possession', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())

  const common = () => sts.cliArgs(sts.defaults.publicClientId)
  const token = (home: string, args: string[]) =>
    run(home, ['token', ...common(), '--scope', userRead, ...args])
  const pop = ['--pop-method', 'post', '--pop-url', apiUrl]

  async function login(home: string): Promise<void> {
    const result = await run(
      home,
      [
        'login',
        ...common(),
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        userRead,
      ],
      { input: `${sts.defaults.password}\n` },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  async function cacheDoc(home: string): Promise<Record<string, Record<string, Entry>>> {
    const dir = join(home, 'cache')
    const [file] = (await readdir(dir)).filter((f) => f.startsWith('token-cache.'))
    return JSON.parse(await readFile(join(dir, file ?? ''), 'utf8')) as Record<
      string,
      Record<string, Entry>
    >
  }

  const keyFile = (home: string) => join(home, 'cache', 'msal-ts.pop-key.json')
  const storedKid = async (home: string) =>
    (JSON.parse(await readFile(keyFile(home), 'utf8')) as { kid: string }).kid

  test('-o header prints a PoP SHR signed by the key the STS bound the token to', async () => {
    const home = await tempDir()
    await login(home)
    sts.clearLog()
    const result = await token(home, [...pop, '--pop-nonce', 'nonce-1', '-o', 'header'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    const match = /^Authorization: PoP ([\w-]+\.[\w-]+\.[\w-]+)\n$/.exec(result.stdout)
    assert.ok(match?.[1], result.stdout)
    const shr = match[1]
    const claims = await verifiedShr(shr)
    assert.equal(claims['m'], 'POST')
    assert.equal(claims['u'], 'api.contoso.test:8443')
    assert.equal(claims['p'], '/v1/items')
    assert.equal(claims['nonce'], 'nonce-1')
    const ts = Number(claims['ts'])
    assert.ok(Math.abs(ts - Date.now() / 1000) < 600, `ts ${ts} is now`)

    // The STS was asked for a token bound to that key, and bound it (cnf.kid in the token).
    const kid = decodeProtectedHeader(shr).kid
    const [request] = sts.tokenRequests()
    assert.equal(request?.form?.['grant_type'], 'refresh_token')
    assert.equal(request?.form?.['token_type'], 'pop')
    assert.deepEqual(
      JSON.parse(Buffer.from(request?.form?.['req_cnf'] ?? '', 'base64url').toString()),
      { kid, xms_ksl: 'sw' },
    )
    const at = String(claims['at'])
    assert.deepEqual(decodeJwt(at)['cnf'], { kid })

    // The bearer token of the sign-in and the PoP token for the same scope, side by side: the
    // PoP one in a section of its own, in msal-node's shape, where no bearer lookup looks.
    const doc = await cacheDoc(home)
    const [bearer, ...more] = Object.entries(doc['AccessToken'] ?? {})
    const [bound, ...morePop] = Object.entries(doc['AccessToken_With_AuthScheme'] ?? {})
    assert.ok(bearer && bound)
    assert.deepEqual([more, morePop], [[], []])
    assert.equal(bearer[1].credential_type, 'AccessToken')
    assert.equal(bound[1].credential_type, 'AccessToken_With_AuthScheme')
    assert.equal(bearer[1].token_type, 'Bearer')
    assert.equal(bound[1].token_type, 'pop')
    assert.equal(bound[1].key_id, kid)
    assert.equal(bound[1].secret, at)
    assert.equal(bound[1].target, bearer[1].target)
    assert.match(bound[0], /-accesstoken_with_authscheme-.*--pop$/)

    // A bearer request still gets the bearer token, from the cache.
    sts.clearLog()
    const plain = await token(home, ['-o', 'header'])
    assert.equal(plain.stdout, `Authorization: Bearer ${bearer[1].secret}\n`)
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('the key file is 0600 in a 0700 dir, reused across runs, and replaced on --pop-rotate-key', async () => {
    const home = await tempDir()
    await login(home)
    const first = await token(home, [...pop])
    assert.equal(first.exitCode, 0, first.stderr)
    const kid = await storedKid(home)
    assert.equal(decodeProtectedHeader(first.stdout.trim()).kid, kid)
    assert.equal((await stat(keyFile(home))).mode & 0o777, 0o600)
    assert.equal((await stat(join(home, 'cache'))).mode & 0o777, 0o700)

    // Same key, and the cached PoP token: no request; a new SHR for a new request.
    sts.clearLog()
    const second = await token(home, ['--pop-method', 'GET', '--pop-url', 'https://other.test/x'])
    assert.equal(second.exitCode, 0, second.stderr)
    assert.deepEqual(sts.tokenRequests(), [])
    const shr = second.stdout.trim()
    assert.equal(decodeProtectedHeader(shr).kid, kid)
    const claims = await verifiedShr(shr)
    assert.equal(claims['at'], decodeJwt(first.stdout.trim())['at'])
    assert.equal(claims['m'], 'GET')
    assert.equal(claims['u'], 'other.test')

    const rotated = await token(home, [...pop, '--pop-rotate-key', '-o', 'json'])
    assert.equal(rotated.exitCode, 0, rotated.stderr)
    const out = JSON.parse(rotated.stdout) as Record<string, unknown>
    assert.equal(out['token_type'], 'pop')
    const newKid = await storedKid(home)
    assert.notEqual(newKid, kid)
    const shrClaims = await verifiedShr(String(out['access_token']))
    assert.deepEqual(decodeJwt(String(shrClaims['at']))['cnf'], { kid: newKid })
    assert.equal(sts.tokenRequests().length, 1, 'a token for the new key was fetched')
    assert.equal((await stat(keyFile(home))).mode & 0o777, 0o600)
  })

  test("logout --app-tokens leaves the user's PoP token; logout of the account removes it", async () => {
    const home = await tempDir()
    await login(home)
    assert.equal((await token(home, [...pop])).exitCode, 0)
    const popTokens = async () =>
      Object.keys((await cacheDoc(home))['AccessToken_With_AuthScheme'] ?? {})
    const [stored] = await popTokens()
    assert.ok(stored)

    const appTokens = await run(home, ['logout', ...withoutCaFile(common()), '--app-tokens'])
    assert.equal(appTokens.exitCode, 0, appTokens.stderr)
    assert.deepEqual(await popTokens(), [stored])

    const logout = await run(home, ['logout', ...withoutCaFile(common()), '--all', '--yes'])
    assert.equal(logout.exitCode, 0, logout.stderr)
    assert.deepEqual(await popTokens(), [])
    assert.deepEqual((await cacheDoc(home))['AccessToken'], {})
    sts.clearLog()
    const after = await token(home, [...pop])
    assert.equal(after.exitCode, 3, 'signed out: no token, PoP or not')
    assert.equal(after.stdout, '')
    assert.deepEqual(sts.tokenRequests(), [])
  })

  test('an OIDC provider authority is refused with exit 2 before any request', async () => {
    const home = await tempDir()
    const result = await run(home, [
      'token',
      '-c',
      'app',
      '--oidc-authority',
      'https://127.0.0.1:9/issuer',
      '--scope',
      'api://issuer/read',
      ...pop,
    ])
    assert.equal(result.exitCode, 2)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^msal-ts: pop_unsupported: .*Proof-of-Possession/)
    assertNoStack(result.stderr)
  })

  test('incomplete or malformed --pop-* options are usage errors', async () => {
    const home = await tempDir()
    for (const [args, code] of [
      [['--pop-method', 'GET'], 'missing_option'],
      [['--pop-nonce', 'n'], 'missing_option'],
      [['--pop-rotate-key'], 'missing_option'],
      [['--pop-method', 'FETCH', '--pop-url', apiUrl], 'invalid_pop_method'],
      [['--pop-method', 'GET', '--pop-url', 'not-a-url'], 'invalid_pop_url'],
    ] as const) {
      const result = await token(home, [...args])
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, new RegExp(`^msal-ts: ${code}: `))
    }
  })
})
