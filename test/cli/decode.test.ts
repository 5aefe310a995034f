import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startConnectProxy } from '../fixtures/connect-proxy.js'
import { startJwtIssuer, type JwtIssuer } from '../fixtures/jwt-issuer.js'
import { demoResource, startOidcProvider, type OidcProvider } from '../fixtures/oidc/provider.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, bin, cliEnv, run, tempDir, type CliResult } from './harness.js'
import { Terminal } from './terminal.js'

const now = () => Math.floor(Date.now() / 1000)

/** One `msal-ts: <code>: ...` line and nothing on stdout: how every refusal of decode looks. */
function assertRefused(result: CliResult, exitCode: number, code: string): void {
  assert.equal(result.exitCode, exitCode, result.stderr)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, new RegExp(`^msal-ts: ${code}: [^\\n]+\\n$`))
  assertNoStack(result.stderr)
}

describe('msal-ts decode', () => {
  let sts: Sts
  let issuer: JwtIssuer
  let home: string

  before(async () => {
    home = await tempDir()
    sts = await startSts()
    issuer = await startJwtIssuer(await tempDir())
  })
  after(async () => {
    await issuer.close()
    await sts.close()
  })

  const decode = (args: string[], input?: string, env?: Record<string, string>) =>
    run(home, ['decode', ...args], {
      ...(input === undefined ? {} : { input }),
      ...(env ? { env } : {}),
    })
  /** One part of an unsigned JWT, from JSON text written by hand (shapes JSON.stringify cannot make). */
  const part = (text: string) => Buffer.from(text).toString('base64url')
  const verifyArgs = () => ['--verify', '--ca-file', issuer.caFile]
  const validClaims = () => ({
    iss: issuer.issuer,
    aud: 'api://demo',
    iat: now(),
    exp: now() + 3600,
  })

  async function stsToken(): Promise<string> {
    const result = await run(
      home,
      [
        'client-token',
        ...sts.cliArgs(sts.defaults.confidentialClientId),
        '--resource',
        'https://graph.microsoft.com',
      ],
      { env: { AZURE_CLIENT_SECRET: sts.defaults.clientSecret } },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    return result.stdout.trim()
  }

  test('a token from the test STS: {header, claims} as JSON when piped; --verify fetches discovery and keys, never sends the token', async () => {
    const token = await stsToken()
    const plain = await decode([], `${token}\n`)
    assert.equal(plain.exitCode, 0, plain.stderr)
    assert.equal(plain.stderr, '')
    const decoded = JSON.parse(plain.stdout) as {
      header: Record<string, unknown>
      claims: Record<string, unknown>
    }
    assert.deepEqual(Object.keys(decoded), ['header', 'claims'])
    assert.equal(decoded.header['alg'], 'RS256')
    assert.equal(decoded.claims['aud'], 'https://graph.microsoft.com')
    assert.equal(decoded.claims['iss'], `${sts.authority()}/v2.0`)

    sts.clearLog()
    const verified = await decode(['--verify', '--ca-file', sts.caFile], token)
    assert.equal(verified.exitCode, 0, verified.stderr)
    assert.equal(verified.stdout, plain.stdout)
    assert.match(
      verified.stderr,
      new RegExp(`^signature verified: key ${String(decoded.header['kid'])} from https://`),
    )
    assert.deepEqual(
      sts.log.map((entry) => `${entry.method} ${entry.path}`),
      [
        `GET /${sts.tenantId}/v2.0/.well-known/openid-configuration`,
        `GET /${sts.tenantId}/discovery/v2.0/keys`,
      ],
    )
    assert.ok(!JSON.stringify(sts.log).includes(token.split('.')[2] ?? ''), 'the token never left')
  })

  test('a token from oidc-provider (an http issuer on loopback) verifies against its keys', async () => {
    const op: OidcProvider = await startOidcProvider()
    try {
      const { clientId, secret } = op.clients.secretPost
      const got = await run(
        home,
        ['client-token', '--oidc-authority', op.issuer, '-c', clientId, '--resource', demoResource],
        { env: { MSAL_TS_CLIENT_SECRET: secret } },
      )
      assert.equal(got.exitCode, 0, got.stderr)
      const verified = await decode(['--verify'], got.stdout)
      assert.equal(verified.exitCode, 0, verified.stderr)
      assert.equal(
        (JSON.parse(verified.stdout) as { claims: { iss: string } }).claims.iss,
        op.issuer,
      )
      assert.match(verified.stderr, /^signature verified: key \S+ from http:\/\/127\.0\.0\.1:/)
    } finally {
      await op.close()
    }
  })

  test('a tampered token: exit 1 invalid_signature, nothing on stdout', async () => {
    const token = await stsToken()
    const [header, , signature] = token.split('.')
    const claims = {
      ...(JSON.parse(await decode([], token).then((r) => r.stdout)) as { claims: object }).claims,
      roles: ['Admin'],
    }
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
    assertRefused(
      await decode(['--verify', '--ca-file', sts.caFile], forged),
      1,
      'invalid_signature',
    )
  })

  test('an expired token: --verify says when it expired (exit 1); decode alone shows how long ago', async () => {
    const token = await issuer.sign({ ...validClaims(), iat: now() - 7200, exp: now() - 3700 })
    const refused = await decode(verifyArgs(), token)
    assertRefused(refused, 1, 'token_expired')
    assert.match(refused.stderr, /the signature is valid, but the token expired at \d{4}-/)
    const shown = await decode(['-o', 'table'], token)
    assert.equal(shown.exitCode, 0, shown.stderr)
    assert.match(shown.stdout, /^ {2}exp +\d+ {2}\S+ \S+ \S+ {2}\(expired 1h 1m ago\)$/m)
  })

  test('a token with a nonce in its header (Microsoft Graph) is explained, not called a bad signature', async () => {
    // Entra signs a Graph token over the hash of the nonce, then puts the nonce itself in the header.
    const nonce = 'graph-nonce-value'
    const signed = await issuer.sign(validClaims(), {
      header: { nonce: createHash('sha256').update(nonce).digest('base64url') },
    })
    const [header = '', claims, signature] = signed.split('.')
    const shown = {
      ...(JSON.parse(Buffer.from(header, 'base64url').toString()) as object),
      nonce,
    }
    const graphToken = `${Buffer.from(JSON.stringify(shown)).toString('base64url')}.${claims}.${signature}`
    const refused = await decode(verifyArgs(), graphToken)
    assertRefused(refused, 1, 'unverifiable_token')
    assert.match(refused.stderr, /nonce in its header.*Microsoft Graph/)
  })

  test('a key the issuer does not publish: exit 1 unknown_key, after asking the key set afresh once', async () => {
    issuer.log.length = 0
    const token = await issuer.sign(validClaims(), { unpublished: true })
    assertRefused(await decode(verifyArgs(), token), 1, 'unknown_key')
    assert.deepEqual(
      issuer.log.map((entry) => entry.path),
      [
        '/tenant/v2.0/.well-known/openid-configuration',
        '/tenant/v2.0/discovery/keys',
        '/tenant/v2.0/discovery/keys',
      ],
    )
    assert.ok(issuer.log.every((entry) => entry.authorization === undefined))
  })

  test('a table: times also in local time (TZ) with the time left; control characters in claims are escaped in both formats', async () => {
    const exp = now() + 2 * 3600 + 5 * 60 + 30
    const token = await issuer.sign({
      ...validClaims(),
      iat: 1_765_000_000,
      exp,
      name: 'Mallory\u001b]0;pwned\u0007\u001b[2J\r\nfake: line',
      bidi: 'abc\u202edef',
    })
    const table = await decode(['-o', 'table'], token, { TZ: 'Asia/Kolkata' })
    assert.equal(table.exitCode, 0, table.stderr)
    assert.match(table.stdout, /^Header\n {2}alg +RS256\n/)
    assert.match(table.stdout, /^ {2}iat +1765000000 {2}2025-12-06 11:16:40 \+05:30$/m)
    assert.match(table.stdout, /^ {2}exp +\d+ {2}\S+ \S+ \+05:30 {2}\(expires in 2h 5m\)$/m)
    assert.match(
      table.stdout,
      /^ {2}name +Mallory\\u001b\]0;pwned\\u0007\\u001b\[2J\\u000d\\u000afake: line$/m,
    )
    assert.match(table.stdout, /^ {2}bidi +abc\\u202edef$/m)
    assert.doesNotMatch(table.stdout, /[^\P{Cc}\n]|\u202e/u)

    const json = await decode(['-o', 'json'], token)
    assert.doesNotMatch(json.stdout, /[^\P{Cc}\n]|\u202e/u)
    const claims = (JSON.parse(json.stdout) as { claims: Record<string, string> }).claims
    assert.equal(claims['bidi'], 'abc\u202edef', 'escaped, still the same JSON value')
  })

  test('an Authorization line as -o header prints it, and the token as an argument with a warning', async () => {
    const token = await issuer.sign(validClaims())
    const header = await decode(['-o', 'json'], `Authorization: Bearer ${token}\r\n`)
    assert.equal(header.exitCode, 0, header.stderr)
    const argument = await decode([token])
    assert.equal(argument.exitCode, 0, argument.stderr)
    assert.equal(argument.stdout, header.stdout)
    assert.match(
      argument.stderr,
      /^msal-ts: warning: a token on the command line is visible to other users/,
    )
  })

  test('input that is not one JWT is exit 2 in one line that does not repeat it', async () => {
    const token = await issuer.sign(validClaims())
    const cases: [string, string][] = [
      ['', 'missing_token'],
      ['not a token secret-123', 'invalid_token'],
      ['a.b.c', 'invalid_token'],
      [`${token}\n${token}`, 'invalid_token'],
      ['eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', 'invalid_token'],
      ['x'.repeat(300 * 1024), 'input_too_large'],
    ]
    for (const [input, code] of cases) {
      const result = await decode([], input)
      assertRefused(result, 2, code)
      assert.doesNotMatch(result.stderr, /secret-123/)
    }
  })

  test('faults on the way to the keys: 5xx, a hang past --timeout, an untrusted certificate, an issuer over http', async () => {
    const token = await issuer.sign(validClaims())
    issuer.fail('discovery', { kind: 'status', status: 500 })
    assertRefused(await decode(verifyArgs(), token), 1, 'server_error')
    issuer.fail('discovery', undefined)

    issuer.fail('keys', { kind: 'status', status: 503 })
    const keys = await decode(verifyArgs(), token)
    assertRefused(keys, 1, 'invalid_response')
    assert.match(keys.stderr, /key set .* answered 503/)
    issuer.fail('keys', undefined)

    issuer.fail('keys', { kind: 'hang' })
    assertRefused(await decode([...verifyArgs(), '--timeout', '1'], token), 1, 'timeout')
    issuer.fail('keys', undefined)

    assertRefused(await decode(['--verify'], token), 1, 'tls_error')

    issuer.log.length = 0
    const http = await issuer.sign({ ...validClaims(), iss: 'http://login.example.com/tenant' })
    const refused = await decode(verifyArgs(), http)
    assertRefused(refused, 1, 'unverifiable_token')
    assert.match(refused.stderr, /is not an https URL/)
    assert.deepEqual(issuer.log, [])
  })

  test('--ca-file, --proxy, --timeout, --verbose and --log-level act only with --verify', async () => {
    const token = await issuer.sign(validClaims())
    const timeout = await decode(['--timeout', '5'], token)
    assertRefused(timeout, 2, 'conflicting_options')
    assert.match(timeout.stderr, /--timeout acts on the requests of --verify/)
    const logging = await decode(['--log-level', 'debug'], token)
    assertRefused(logging, 2, 'conflicting_options')
    assert.match(logging.stderr, /--log-level acts on/)
    const both = await decode(['--timeout', '5', '--log-level', 'info'], token)
    assert.match(both.stderr, /--timeout, --log-level act on/)
    // -v prints the error's stack by design; the refusal itself is what counts.
    const verbose = await decode(['-v'], token)
    assert.equal(verbose.exitCode, 2)
    assert.equal(verbose.stdout, '')
    assert.match(verbose.stderr, /^msal-ts: conflicting_options: --verbose acts on/)
    const fromEnv = await decode([], token, { MSAL_TS_LOG_LEVEL: 'debug' })
    assert.equal(
      fromEnv.exitCode,
      0,
      'a log level from the environment is a default, not a request',
    )
  })

  test('a huge claim name is cut in the table, so it does not pad every row to its length', async () => {
    const claims: Record<string, number> = { ['n'.repeat(50_000)]: 1 }
    for (let i = 0; i < 2000; i += 1) {
      claims[`c${i}`] = i
    }
    const wide = [part('{"alg":"none"}'), part(JSON.stringify(claims)), ''].join('.')
    const table = await decode(['-o', 'table'], wide)
    assert.equal(table.exitCode, 0, table.stderr)
    assert.ok(table.stdout.length < 200_000, `${table.stdout.length} chars`)
    assert.match(table.stdout, /^ {2}n{63}… {2}1$/m)
    assert.match(table.stdout, /^ {2}c1999 {61}1999$/m)
  })

  test('claims nested past 64 deep are exit 2 in one line, never a crash of the printer', async () => {
    const deep = `{"x":${'['.repeat(8000)}${']'.repeat(8000)}}`
    const nested = [part('{"alg":"none"}'), part(deep), ''].join('.')
    for (const format of ['json', 'table']) {
      const refused = await decode(['-o', format], nested)
      assertRefused(refused, 2, 'invalid_token')
      assert.match(refused.stderr, /more than 64 deep/)
    }
    const deepHeader = [
      part(`{"alg":"none","x":${'['.repeat(100)}${']'.repeat(100)}}`),
      part('{}'),
      '',
    ]
    assertRefused(await decode([], deepHeader.join('.')), 2, 'invalid_token')
    const shallow = [part('{"alg":"none"}'), part(`{"x":${'['.repeat(60)}${']'.repeat(60)}}`), '']
    assert.equal((await decode([], shallow.join('.'))).exitCode, 0)
  })

  test('a malformed key in the key set: exit 1 invalid_key_set naming it, never internal_error', async () => {
    const token = await issuer.sign(validClaims())
    const kid = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      kid: string
    }
    const malformed = [
      { kty: 'RSA', kid: kid.kid, n: 'AQAB', e: 'AQAB' },
      { kty: 'RSA', kid: kid.kid },
      { kty: 'RSA', kid: kid.kid, n: 5, e: 'AQAB' },
      { kty: 'RSA', kid: kid.kid, n: '!!!', e: 'AQAB' },
    ]
    try {
      for (const key of malformed) {
        issuer.publish([key])
        const refused = await decode(verifyArgs(), token)
        assert.equal(refused.exitCode, 1, `${JSON.stringify(key)}: ${refused.stderr}`)
        assert.equal(refused.stdout, '')
        assert.match(
          refused.stderr,
          /^msal-ts: invalid_key_set: the issuer's key set \(https:[^\n]*\/keys\) holds a key that cannot be used[^\n]*\n$/,
        )
        assert.doesNotMatch(refused.stderr, /internal_error/)
      }
    } finally {
      issuer.publish(undefined)
    }
  })

  test('stdin that is a directory is named as such', async () => {
    const dir = await tempDir()
    // A shell redirection, as a user types it: the binary gets the directory itself as fd 0.
    const result = await execa('sh', ['-c', `'${bin}' decode < '${dir}'`], {
      env: cliEnv(home),
      extendEnv: false,
      reject: false,
    })
    assert.equal(result.exitCode, 2)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, 'msal-ts: invalid_input: stdin is a directory, not the token')
  })

  test('the CA file of --verify follows the common precedence: MSAL_TS_CA_FILE and the profile beat SSL_CERT_FILE and NODE_EXTRA_CA_CERTS', async () => {
    const token = await issuer.sign(validClaims())
    const wrong = { SSL_CERT_FILE: sts.caFile, NODE_EXTRA_CA_CERTS: sts.caFile }
    const own = await decode(['--verify'], token, { ...wrong, MSAL_TS_CA_FILE: issuer.caFile })
    assert.equal(own.exitCode, 0, own.stderr)

    const dir = await tempDir()
    assert.equal((await run(dir, ['config', 'set', 'ca-file', issuer.caFile])).exitCode, 0)
    const profiled = await run(dir, ['decode', '--verify'], { input: token, env: wrong })
    assert.equal(profiled.exitCode, 0, profiled.stderr)

    const untrusted = await decode(['--verify'], token, wrong)
    assertRefused(untrusted, 1, 'tls_error')
    assert.match(untrusted.stderr, /CA file from SSL_CERT_FILE/)
    // A missing one is bad input, exit 2 as on every other command, before any request.
    const missing = await decode(['--verify'], token, { SSL_CERT_FILE: join(dir, 'missing.pem') })
    assertRefused(missing, 2, 'ca_file')
    assert.match(missing.stderr, /missing\.pem \(from SSL_CERT_FILE\): no such file/)
  })

  test('--proxy carries the requests of --verify; --insecure works without the CA, with a warning; --verbose logs the requests, never the token', async () => {
    const token = await issuer.sign(validClaims())
    const proxy = await startConnectProxy()
    try {
      const proxied = await decode([...verifyArgs(), '--proxy', proxy.url], token)
      assert.equal(proxied.exitCode, 0, proxied.stderr)
      assert.ok(
        proxy.tunnels.includes(new URL(issuer.issuer).host),
        `tunnels: ${proxy.tunnels.join(', ')}`,
      )
    } finally {
      proxy.close()
    }

    const insecure = await decode(['--verify', '--insecure'], token)
    assert.equal(insecure.exitCode, 0, insecure.stderr)
    assert.match(insecure.stderr, /^msal-ts: warning: TLS certificate verification is off/)

    const verbose = await decode([...verifyArgs(), '--verbose'], token)
    assert.equal(verbose.exitCode, 0, verbose.stderr)
    assert.match(
      verbose.stderr,
      /^msal-ts: debug: http GET https:\/\/127\.0\.0\.1:\d+\/tenant\/v2\.0\/discovery\/keys 200 /m,
    )
    assert.ok(!verbose.stderr.includes(token.split('.')[1] ?? ''), 'the token is not logged')
  })

  test('on a terminal the table is the default; piped, JSON', async () => {
    const token = await issuer.sign(validClaims())
    // script(1) gives the command a pseudo-terminal for stdout; the token still comes down a pipe.
    const onTerminal = await execa(
      'script',
      ['-qec', `printf %s '${token}' | '${bin}' decode`, '/dev/null'],
      { env: cliEnv(home), extendEnv: false, input: '' },
    )
    assert.match(
      onTerminal.stdout.replaceAll('\r\n', '\n'),
      /^Header\n {2}alg +RS256\n[\s\S]*^Claims\n/m,
    )
    const piped = await decode([], token)
    assert.deepEqual(Object.keys(JSON.parse(piped.stdout) as object), ['header', 'claims'])
  })

  test('typed on a terminal: it asks for the token, which is read up to Ctrl-D', async () => {
    const token = await issuer.sign(validClaims())
    const terminal = new Terminal(await tempDir())
    await terminal.start(['decode', '-o', 'json'], cliEnv(home))
    await terminal.waitFor(/Paste the token, then press Enter and Ctrl-D/)
    await terminal.keys('-l', token)
    await terminal.keys('Enter', 'C-d')
    const { exitCode, stdout } = await terminal.finished()
    assert.equal(exitCode, 0)
    assert.equal((JSON.parse(stdout) as { claims: { iss: string } }).claims.iss, issuer.issuer)
  })

  test('a CA file kept in the default profile serves --verify too', async () => {
    const dir = await tempDir()
    const set = await run(dir, ['config', 'set', 'ca-file', issuer.caFile])
    assert.equal(set.exitCode, 0, set.stderr)
    const verified = await run(dir, ['decode', '--verify'], {
      input: await issuer.sign(validClaims()),
    })
    assert.equal(verified.exitCode, 0, verified.stderr)
    assert.match(verified.stderr, /^signature verified: /)
  })

  test('--profile names the profile whose CA file serves --verify, and acts only with it', async () => {
    const dir = await tempDir()
    const set = await run(dir, ['config', 'set', '--profile', 'issuer', 'ca-file', issuer.caFile])
    assert.equal(set.exitCode, 0, set.stderr)
    const token = await issuer.sign(validClaims())
    const verified = await run(dir, ['decode', '--verify', '--profile', 'issuer'], { input: token })
    assert.equal(verified.exitCode, 0, verified.stderr)
    assert.match(verified.stderr, /^signature verified: /)
    const unnamed = await run(dir, ['decode', '--verify'], { input: token })
    assertRefused(unnamed, 1, 'tls_error')
    const missing = await run(dir, ['decode', '--verify', '--profile', 'nope'], { input: token })
    assertRefused(missing, 2, 'unknown_profile')
    const idle = await run(dir, ['decode', '--profile', 'issuer'], { input: token })
    assertRefused(idle, 2, 'conflicting_options')
    assert.match(idle.stderr, /--profile acts on the requests of --verify/)
  })
})
