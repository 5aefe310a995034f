/**
 * `msal-ts serve`: the real Azure SDK clients (Debian's python3-azure, the registry's
 * @azure/identity) get tokens through it from the test STS; the endpoint refuses what it must,
 * answers from memory, and fetches one token for many concurrent requests.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { freePort } from '../fixtures/loopback-server.js'
import { resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { decodeJwt } from 'jose'
import { startManagedIdentityEndpoints } from '../fixtures/managed-identity.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, bin, cliEnv, run, tempDir } from './harness.js'
import { fillIn, recipe, runShell } from './readme.js'
import { ask, type ServeProcess, startServe } from './serve-process.js'

const vault = 'https://vault.azure.net'
const sdkDir = resolve(import.meta.dirname, '../fixtures/sdk')

/** An SDK's environment: only what it needs to find the endpoint. */
function sdkEnv(serve: ServeProcess): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: sdkDir,
    IDENTITY_ENDPOINT: serve.endpoint,
    IDENTITY_HEADER: serve.secret,
  }
}

/** Expiry as the SDK read it against the token's own `exp`: msal-ts counts from when it asked. */
function assertNear(seconds: number, exp: number | undefined): void {
  assert.ok(exp !== undefined && Math.abs(seconds - exp) <= 5, `${seconds} vs exp ${exp}`)
}

/** The recipe's `kill` ended the server whose endpoint its line on stderr named. */
async function assertServerGone(stderr: string): Promise<void> {
  const endpoint = /^Serving tokens of .+ at (http:\S+) /m.exec(stderr)?.[1]
  assert.ok(endpoint !== undefined, stderr)
  await assert.rejects(ask({ endpoint, secret: '' }), /ECONNREFUSED/)
}

/** Whatever a hand-written request gets back before the connection ends, however it ends. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((done) => {
    let answer = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => done(answer))
  })
}

async function stop(serve: ServeProcess): Promise<void> {
  serve.kill('SIGINT')
  const result = await serve.done
  assert.equal(result.exitCode, 130, result.stderr)
}

describe('msal-ts serve', () => {
  let sts: Sts
  let home: string
  const pub = () => sts.cliArgs(sts.defaults.publicClientId)
  const app = () => sts.cliArgs(sts.defaults.confidentialClientId)
  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    await signIn(home, sts.defaults)
  })
  after(() => sts.close())

  async function signIn(into: string, user: { username: string; password: string }): Promise<void> {
    const login = await run(
      into,
      ['login', ...pub(), '--username', user.username, '--password-stdin'],
      { input: user.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
  }

  test('python3-azure and @azure/identity get the signed-in account’s token; Ctrl-C exits 130', async () => {
    const serve = await startServe(home, [...pub(), '--log-level', 'info'])
    try {
      assert.match(serve.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/)
      assert.match(serve.secret, /^[\w-]{40,}$/)
      assert.match(serve.stderr(), /Serving tokens of alice@contoso\.onmicrosoft\.com at http/)

      const python = await execa(
        '/usr/bin/python3',
        [resolve(sdkDir, 'azure_identity_token.py'), `${vault}/.default`],
        { env: sdkEnv(serve), extendEnv: false, reject: false },
      )
      assert.equal(python.exitCode, 0, python.stderr)
      const fromPython = JSON.parse(python.stdout) as { token: string; expires_on: number }
      const claims = decodeJwt(fromPython.token)
      assert.equal(claims['aud'], vault)
      assert.equal(claims['preferred_username'], sts.defaults.username)
      assertNear(fromPython.expires_on, claims.exp)

      const node = await execa(
        process.execPath,
        [resolve(sdkDir, 'azure-identity-token.mjs'), 'https://management.azure.com/.default'],
        { env: sdkEnv(serve), extendEnv: false, reject: false },
      )
      assert.equal(node.exitCode, 0, node.stderr)
      const fromNode = JSON.parse(node.stdout) as { token: string; expiresOnTimestamp: number }
      assert.equal(decodeJwt(fromNode.token)['aud'], 'https://management.azure.com')
      assertNear(fromNode.expiresOnTimestamp / 1000, decodeJwt(fromNode.token).exp)

      // One line per request at info level, naming the resource, never a token or the secret.
      const lines = serve.stderr().split('\n')
      assert.ok(lines.includes(`msal-ts: info: GET /msi/token 200 ${vault}`), serve.stderr())
      assert.ok(lines.includes('msal-ts: info: GET /msi/token 200 https://management.azure.com'))
      for (const secret of [fromPython.token, fromNode.token, serve.secret]) {
        assert.ok(!serve.stderr().includes(secret))
      }
    } finally {
      await stop(serve)
    }
    assertNoStack((await serve.done).stderr)
  })

  test('the answer has App Service’s shape; a second request comes from memory', async () => {
    const serve = await startServe(home, pub())
    try {
      sts.clearLog()
      const first = await ask(serve, { resource: 'api://serve-shape' })
      assert.equal(first.status, 200, first.body)
      assert.match(String(first.headers['content-type']), /^application\/json/)
      const body = JSON.parse(first.body) as Record<string, unknown>
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'client_id',
        'expires_on',
        'resource',
        'token_type',
      ])
      assert.equal(body['resource'], 'api://serve-shape')
      assert.equal(body['token_type'], 'Bearer')
      assert.equal(body['client_id'], sts.defaults.publicClientId)
      assert.match(String(body['expires_on']), /^\d+$/)
      assertNear(Number(body['expires_on']), decodeJwt(String(body['access_token'])).exp)
      assert.equal(sts.tokenRequests().length, 1)

      sts.clearLog()
      const second = await ask(serve, { resource: 'api://serve-shape' })
      assert.equal(second.status, 200)
      assert.equal(
        (JSON.parse(second.body) as Record<string, unknown>)['access_token'],
        body['access_token'],
      )
      assert.deepEqual(sts.log, [], 'no request to the identity provider')
    } finally {
      await stop(serve)
    }
  })

  test('20 concurrent requests for one resource make one token request (client credential)', async () => {
    const appHome = await tempDir()
    const serve = await startServe(appHome, app(), { env: secretEnv() })
    try {
      assert.match(serve.stderr(), /Serving tokens of the application /)
      sts.clearLog()
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => ask(serve, { resource: 'api://concurrent' })),
      )
      assert.deepEqual(
        answers.map((a) => a.status),
        Array.from({ length: 20 }, () => 200),
      )
      const tokens = new Set(
        answers.map((a) => (JSON.parse(a.body) as Record<string, string>)['access_token']),
      )
      assert.equal(tokens.size, 1)
      const requests = sts.tokenRequests()
      assert.equal(requests.length, 1)
      assert.equal(requests[0]?.grantType, 'client_credentials')
      assert.equal(requests[0]?.form?.['scope'], 'api://concurrent/.default')
      const body = JSON.parse(answers[0]?.body ?? '{}') as Record<string, unknown>
      assert.equal(body['client_id'], sts.defaults.confidentialClientId)
    } finally {
      await stop(serve)
    }
  })

  test('--managed-identity: a user-assigned identity’s tokens, as client-token takes them', async () => {
    const mi = await startManagedIdentityEndpoints()
    const identity = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
    const serve = await startServe(await tempDir(), ['--managed-identity', '-c', identity], {
      env: mi.imdsEnv(),
    })
    try {
      assert.match(serve.stderr(), new RegExp(`Serving tokens of the managed identity ${identity}`))
      const answer = await ask(serve)
      assert.equal(answer.status, 200, answer.body)
      const body = JSON.parse(answer.body) as Record<string, string>
      assert.equal(body['access_token'], mi.issued.at(-1))
      assert.equal(body['client_id'], identity)
      assert.equal(body['resource'], vault)
      assert.equal(mi.requests.length, 1)
      assert.equal(mi.requests[0]?.query['client_id'], identity)
      assert.equal(mi.requests[0]?.query['resource'], vault)
    } finally {
      await stop(serve)
      await mi.close()
    }
    assert.ok(!(await serve.done).stderr.includes(mi.issued.at(-1) ?? '-'))
  })

  test('401 without the secret, 403 outside --allow-resource, 400 for a bad request', async () => {
    const serve = await startServe(home, [...pub(), '--allow-resource', `${vault}/`])
    try {
      sts.clearLog()
      const cases: [string, Parameters<typeof ask>[1], number][] = [
        ['no secret', { headers: { 'X-IDENTITY-HEADER': '' } }, 401],
        ['a wrong secret', { headers: { 'X-IDENTITY-HEADER': `${serve.secret}x` } }, 401],
        ['a short wrong secret', { headers: { 'X-IDENTITY-HEADER': 'x' } }, 401],
        ['another resource', { resource: 'https://graph.microsoft.com' }, 403],
        ['no resource', { query: '?api-version=2019-08-01' }, 400],
        ['an empty resource', { query: '?resource=&api-version=2019-08-01' }, 400],
        [
          'two resources',
          { query: `?resource=${vault}&resource=${vault}&api-version=2019-08-01` },
          400,
        ],
        ['CR/LF in the resource', { resource: `${vault}\r\nX-Evil: 1` }, 400],
        ['a leading space', { resource: ` ${vault}` }, 400],
        ['a trailing space', { resource: `${vault} ` }, 400],
        ['no api-version', { query: `?resource=${vault}` }, 400],
        ['the 2017 api-version', { query: `?resource=${vault}&api-version=2017-09-01` }, 400],
        ['another path', { query: `/../other?resource=${vault}&api-version=2019-08-01` }, 404],
        ['POST', { method: 'POST' }, 405],
        ['DELETE', { method: 'DELETE' }, 405],
        [
          'a rebinding Host',
          { headers: { Host: `evil.example:${new URL(serve.endpoint).port}` } },
          400,
        ],
        ['a body', { headers: { 'Transfer-Encoding': 'chunked' } }, 400],
      ]
      for (const [what, options, status] of cases) {
        const answer = await ask(serve, options)
        assert.equal(answer.status, status, `${what}: ${answer.body}`)
        const body = JSON.parse(answer.body) as Record<string, unknown>
        assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], what)
        assert.ok(!answer.body.includes('eyJ'), `${what}: no token`)
      }
      assert.deepEqual(sts.tokenRequests(), [], 'nothing refused reached the identity provider')
      const allowed = await ask(serve)
      assert.equal(allowed.status, 200, allowed.body)
    } finally {
      await stop(serve)
    }
    const { stderr } = await serve.done
    assertNoStack(stderr)
    assert.ok(!stderr.includes('X-Evil'), 'nothing of the hostile resource forged a line')
  })

  test('a huge query and a bare request line are refused by the HTTP parser, not by a crash', async () => {
    const serve = await startServe(home, pub())
    try {
      const port = Number(new URL(serve.endpoint).port)
      const huge = await rawRequest(
        port,
        `GET /msi/token?resource=${'a'.repeat(100_000)}&api-version=2019-08-01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      )
      // Cut off while the rest is still arriving, the answer may be lost to the reset.
      assert.match(huge, /^(HTTP\/1\.1 431 |$)/)
      const bare = await rawRequest(
        port,
        'GET /msi/token?resource=a\r\nb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      )
      assert.match(bare, /^HTTP\/1\.1 400 /)
      assert.equal((await ask(serve)).status, 200, 'still serving')
    } finally {
      await stop(serve)
    }
  })

  test('a failing identity provider: a JSON error with 502, no stack, and serving goes on', async () => {
    const appHome = await tempDir()
    const serve = await startServe(appHome, app(), { env: secretEnv() })
    try {
      sts.inject({ match: { grantType: 'client_credentials' }, kind: 'garbage', times: 5 })
      const failed = await ask(serve, { resource: 'api://faulty' })
      assert.equal(failed.status, 502, failed.body)
      const body = JSON.parse(failed.body) as Record<string, string>
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'])
      assert.doesNotMatch(failed.body, /\bat .+:\d+:\d+/)
      sts.clearFaults()
      assert.equal((await ask(serve, { resource: 'api://faulty' })).status, 200)

      // The provider's refusal is passed on as App Service does: 400 with its error.
      sts.inject({
        match: { grantType: 'client_credentials' },
        status: 400,
        body: { error: 'invalid_resource', error_description: 'AADSTS500011: not found' },
      })
      const refused = await ask(serve, { resource: 'api://unknown' })
      assert.equal(refused.status, 400)
      assert.equal(
        (JSON.parse(refused.body) as Record<string, string>)['error'],
        'invalid_resource',
      )
    } finally {
      await stop(serve)
    }
    const { stderr } = await serve.done
    assertNoStack(stderr)
    assert.match(stderr, /^msal-ts: warning: a token for api:\/\/faulty: /m)
  })

  test('at --log-level info a failed request is one line, with the error code', async () => {
    const serve = await startServe(await tempDir(), [...app(), '--log-level', 'info'], {
      env: secretEnv(),
    })
    try {
      sts.inject({ match: { grantType: 'client_credentials' }, kind: 'garbage', times: 5 })
      assert.equal((await ask(serve, { resource: 'api://faulty-info' })).status, 502)
      sts.clearFaults()
    } finally {
      await stop(serve)
    }
    const lines = (await serve.done).stderr.split('\n').filter((l) => l.includes('faulty-info'))
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(
      lines[0] ?? '',
      /^msal-ts: info: GET \/msi\/token 502 api:\/\/faulty-info [\w-]+: /,
    )
  })

  test('a resource already ending in /.default is that scope, not <resource>/.default/.default', async () => {
    const serve = await startServe(await tempDir(), app(), { env: secretEnv() })
    try {
      sts.clearLog()
      const answer = await ask(serve, { resource: 'api://as-scope/.default' })
      assert.equal(answer.status, 200, answer.body)
      assert.equal(sts.tokenRequests()[0]?.form?.['scope'], 'api://as-scope/.default')
    } finally {
      await stop(serve)
    }
  })

  test('a server whose stdout reader is gone before it announces fails: exit 1, one line', async () => {
    const child = execa(bin, ['serve', ...pub()], {
      env: cliEnv(home),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    })
    // As `msal-ts serve | true`: the reader closes its end before anything is written.
    child.stdout.destroy()
    const result = await child
    assert.equal(result.exitCode, 1, String(result.stderr))
    assert.match(String(result.stderr), /^msal-ts: [\w-]+: [^\n]*stdout[^\n]*$/)
  })

  test('the fault matrix: whatever breaks between serve and the provider is a 502 JSON error', async () => {
    const appHome = await tempDir()
    const serve = await startServe(appHome, [...app(), '--timeout', '2'], { env: secretEnv() })
    try {
      for (const kind of ['garbage', 'truncated', 'drop', 'reset', 'html', 'hang'] as const) {
        sts.inject({ match: { grantType: 'client_credentials' }, kind, times: 5 })
        const failed = await ask(serve, { resource: `api://fault-${kind}` })
        sts.clearFaults()
        assert.equal(failed.status, 502, `${kind}: ${failed.body}`)
        const body = JSON.parse(failed.body) as Record<string, string>
        assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], kind)
        // Another resource: msal-ts, as MSAL, holds back a repeat of a request the provider failed.
        const again = await ask(serve, { resource: `api://after-${kind}` })
        assert.equal(again.status, 200, `${kind}: ${again.body}`)
      }
    } finally {
      await stop(serve)
    }
    assertNoStack((await serve.done).stderr)
  })

  test('a signed-in account whose refresh token was revoked: 400 saying to run msal-ts login', async () => {
    const revokedHome = await tempDir()
    // A user of its own: revocation ends every refresh token of the user.
    const carol = { username: 'carol@contoso.onmicrosoft.com', password: 'carol password 1' }
    sts.addUser(carol)
    await signIn(revokedHome, carol)
    const serve = await startServe(revokedHome, pub())
    try {
      sts.revokeRefreshTokens(carol.username)
      const answer = await ask(serve, { resource: 'api://after-revocation' })
      assert.equal(answer.status, 400, answer.body)
      const body = JSON.parse(answer.body) as Record<string, string>
      assert.equal(body['error'], 'invalid_grant')
      assert.match(body['error_description'] ?? '', /Run msal-ts login/)
    } finally {
      await stop(serve)
    }
  })

  test('-o json prints one object with the two variables', async () => {
    const serve = await startServe(home, [...pub(), '-o', 'json'])
    try {
      const doc = JSON.parse(serve.stdout) as Record<string, string>
      assert.deepEqual(Object.keys(doc).sort(), ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER'])
      assert.equal((await ask(serve)).status, 200)
    } finally {
      await stop(serve)
    }
  })

  test('each run has a new secret; --port is honoured', async () => {
    const first = await startServe(home, pub())
    const port = Number(new URL(first.endpoint).port)
    await stop(first)
    const second = await startServe(home, [...pub(), '--port', String(port)])
    try {
      assert.equal(second.endpoint, first.endpoint)
      assert.notEqual(second.secret, first.secret)
      assert.equal(
        (await ask(second, { headers: { 'X-IDENTITY-HEADER': first.secret } })).status,
        401,
      )
    } finally {
      await stop(second)
    }
  })

  test('SIGTERM ends it', async () => {
    const serve = await startServe(home, pub())
    serve.kill('SIGTERM')
    const result = await serve.done
    assert.equal(result.signal, 'SIGTERM')
  })

  const recipeSwaps = () => ({
    '<app id>': sts.defaults.publicClientId,
    'https://login.microsoftonline.com/<tenant>': sts.authority(),
  })
  const pythonSdk = `/usr/bin/python3 ${resolve(sdkDir, 'azure_identity_token.py')} ${vault}/.default`

  test('docs/serve.md, a dev process: the SDK in a program started from the shell gets the token', async () => {
    const script = fillIn(recipe('dev-process', { doc: 'docs/serve.md' }), {
      ...recipeSwaps(),
      'python3 app.py': pythonSdk,
    })
    const result = await runShell(home, script, { NODE_EXTRA_CA_CERTS: sts.caFile })
    assert.equal(result.exitCode, 0, result.stderr)
    const token = (JSON.parse(result.stdout) as { token: string }).token
    assert.equal(decodeJwt(token)['aud'], vault)
    await assertServerGone(result.stderr)
  })

  test('docs/serve.md, a container: only the two variables and the fixed port reach it', async () => {
    const script = fillIn(recipe('container', { doc: 'docs/serve.md' }), {
      '41741': String(await freePort()),
      // A container on the host's network: a process that gets the two variables and nothing else.
      'docker run --rm --network host -e IDENTITY_ENDPOINT -e IDENTITY_HEADER my-image': `env -i IDENTITY_ENDPOINT="$IDENTITY_ENDPOINT" IDENTITY_HEADER="$IDENTITY_HEADER" ${pythonSdk}`,
    })
    const result = await runShell(home, script, {
      MSAL_TS_CLIENT_ID: sts.defaults.publicClientId,
      MSAL_TS_AUTHORITY: sts.authority(),
      NODE_EXTRA_CA_CERTS: sts.caFile,
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(decodeJwt((JSON.parse(result.stdout) as { token: string }).token)['aud'], vault)
    await assertServerGone(result.stderr)
  })

  test('--account picks one of several signed-in accounts; without it serve does not guess', async () => {
    const twoHome = await tempDir()
    const bob = { username: 'bob@contoso.onmicrosoft.com', password: 'bob password 1' }
    sts.addUser(bob)
    for (const user of [sts.defaults, bob]) {
      await signIn(twoHome, user)
    }
    const guess = await run(twoHome, ['serve', ...pub()])
    assert.equal(guess.exitCode, 2, guess.stderr)
    assert.match(guess.stderr, /^msal-ts: several_accounts: .*--account/)
    const serve = await startServe(twoHome, [...pub(), '--account', bob.username])
    try {
      const answer = await ask(serve)
      assert.equal(answer.status, 200, answer.body)
      const claims = decodeJwt(
        (JSON.parse(answer.body) as Record<string, string>)['access_token'] ?? '',
      )
      assert.equal(claims['preferred_username'], bob.username)
    } finally {
      await stop(serve)
    }
  })

  test('sources that cannot apply are refused at once: exit 2 (or 3 with no one signed in)', async () => {
    const nobody = await tempDir()
    const cases: [string, string[], Record<string, string>, number][] = [
      ['no one signed in', pub(), {}, 3],
      ['--account with a credential', [...app(), '--account', 'a@b.c'], secretEnv(), 2],
      [
        '--managed-identity with a secret',
        ['--managed-identity', '--client-secret-file', '/x'],
        {},
        2,
      ],
      ['--managed-identity with --account', ['--managed-identity', '--account', 'a@b.c'], {}, 2],
      ['--object-id alone', [...pub(), '--object-id', 'abc'], {}, 2],
      ['--mi-resource-id alone', [...pub(), '--mi-resource-id', '/subscriptions/x'], {}, 2],
      ['--region for a person', [...pub(), '--region', 'westus'], {}, 2],
      // A region from the environment is a default for app tokens: a person's source ignores it.
      [
        'MSAL_TS_REGION with no one signed in',
        ['-c', sts.defaults.publicClientId],
        { MSAL_TS_REGION: 'westus' },
        3,
      ],
      ['--port 0', [...pub(), '--port', '0'], {}, 2],
      ['--port 70000', [...pub(), '--port', '70000'], {}, 2],
      ['--allow-resource with a space', [...pub(), '--allow-resource', 'a b'], {}, 2],
      ['-o raw', [...pub(), '-o', 'raw'], {}, 2],
    ]
    for (const [what, args, env, code] of cases) {
      const result = await run(code === 3 ? nobody : home, ['serve', ...args], {
        env,
      })
      assert.equal(result.exitCode, code, `${what}: ${result.stderr}`)
      assert.equal(result.stdout, '', what)
      assert.match(result.stderr, /^msal-ts: [\w-]+: .+\n$/, what)
    }
  })
})
