import assert from 'node:assert/strict'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { SignJWT, importPKCS8 } from 'jose'
import { startConnectProxy } from '../fixtures/connect-proxy.js'
import { makeClientCertificate, makeHostCertificate, makePki } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, cleanEnv, run, tempDir } from './harness.js'
import { freePort } from '../fixtures/loopback-server.js'

const graph = 'https://graph.microsoft.com/.default'

describe('msal-ts client-token', () => {
  let sts: Sts
  let dir: string
  let secretArgs: string[]
  let cert: ReturnType<typeof makeClientCertificate>
  const certClient = '11111111-2222-4333-8444-555555555555'

  before(async () => {
    dir = await tempDir()
    sts = await startSts()
    cert = makeClientCertificate(dir, 'app', { passphrase: 'pa ss' })
    sts.addClient({ clientId: certClient, certificatePem: cert.certPem })
    secretArgs = ['client-token', ...sts.cliArgs(sts.defaults.confidentialClientId)]
  })
  after(() => sts.close())

  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })
  const certBase = () => ['client-token', ...sts.cliArgs(certClient)]
  const certArgs = (home: string) => [...certBase(), '--cache-dir', home]

  test('a secret from the environment gets a token; the second run is a cache hit with no request', async () => {
    const home = await tempDir()
    const first = await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(first.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.equal(first.stderr, '')
    const [request] = sts.tokenRequests().slice(-1)
    assert.equal(request?.form?.['client_secret'], sts.defaults.clientSecret)
    assert.equal(request?.form?.['scope'], graph)
    assert.equal(request?.headers['x-client-sku'], 'msal-ts')

    sts.clearLog()
    const second = await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.deepEqual(sts.log, [], 'a cache hit makes no request at all')
  })

  test('the secret from stdin, and from the option with a warning about argv', async () => {
    const home = await tempDir()
    const stdin = await run(
      home,
      [
        ...secretArgs,
        '--resource',
        'https://graph.microsoft.com',
        '--client-secret-stdin',
        '--force-refresh',
      ],
      {
        input: `${sts.defaults.clientSecret}\n`,
      },
    )
    assert.equal(stdin.exitCode, 0, stdin.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_secret'], sts.defaults.clientSecret)
    const argv = await run(home, [
      ...secretArgs,
      '--scope',
      graph,
      '--client-secret',
      sts.defaults.clientSecret,
      '--force-refresh',
    ])
    assert.equal(argv.exitCode, 0, argv.stderr)
    assert.match(argv.stderr, /^msal-ts: warning: --client-secret is visible to other users/)
  })

  test('--force-refresh with a domain tenant and no cached discovery replaces the cached token', async () => {
    const home = await tempDir()
    const args = [
      'client-token',
      '-c',
      sts.defaults.confidentialClientId,
      '-a',
      sts.authority(sts.tenantDomain),
      '--ca-file',
      sts.caFile,
      '--scope',
      graph,
    ]
    const first = await run(home, args, { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    // The next run is as on another day: the discovery answer is gone, the token is not.
    const entries = await readdir(home, { recursive: true })
    const httpCache = entries.find((entry) => entry.endsWith('msal-ts.http-cache.json'))
    assert.ok(httpCache, entries.join(', '))
    await rm(join(home, httpCache))
    sts.clearLog()
    const forced = await run(home, [...args, '--force-refresh'], { env: secretEnv() })
    assert.equal(forced.exitCode, 0, forced.stderr)
    assert.notEqual(forced.stdout, first.stdout)
    assert.equal(sts.tokenRequests().length, 1)
  })

  test('-o json and -o header', async () => {
    const home = await tempDir()
    const json = await run(home, [...secretArgs, '--scope', graph, '-o', 'json'], {
      env: secretEnv(),
    })
    assert.equal(json.exitCode, 0, json.stderr)
    const doc = JSON.parse(json.stdout) as Record<string, unknown>
    assert.equal(doc['token_type'], 'Bearer')
    assert.equal(doc['token_source'], 'identity_provider')
    assert.deepEqual(doc['scope'], [graph])
    assert.ok(typeof doc['expires_in'] === 'number' && doc['expires_in'] > 3500)
    assert.ok(
      typeof doc['expires_on'] === 'number' &&
        Math.abs(doc['expires_on'] - Date.now() / 1000 - 3600) < 60,
    )
    assert.equal(doc['refresh_token'], undefined)
    assert.ok(!json.stdout.includes(sts.defaults.clientSecret))

    const header = await run(home, [...secretArgs, '--scope', graph, '-o', 'header'], {
      env: secretEnv(),
    })
    assert.equal(header.stdout, `Authorization: Bearer ${String(doc['access_token'])}\n`)
    const cached = await run(home, [...secretArgs, '--scope', graph, '-o', 'json'], {
      env: secretEnv(),
    })
    assert.equal((JSON.parse(cached.stdout) as Record<string, unknown>)['token_source'], 'cache')
  })

  test('a certificate: RS256 assertion with x5t computed from the certificate, no x5c unless asked', async () => {
    const home = await tempDir()
    const plain = await run(home, [
      ...certArgs(home),
      '--certificate',
      cert.pemFile,
      '--scope',
      graph,
    ])
    assert.equal(plain.exitCode, 0, plain.stderr)
    const assertion = sts.tokenRequests().at(-1)?.assertion
    assert.equal(assertion?.valid, true, assertion?.failure)
    assert.equal(assertion?.header['alg'], 'RS256')
    assert.equal(
      assertion?.header['x5t'],
      Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url') + '=',
    )
    assert.equal(assertion?.header['x5c'], undefined)
    assert.equal(assertion?.payload['aud'], `${sts.url}/${sts.tenantId}/oauth2/v2.0/token`)
    assert.equal(assertion?.payload['iss'], certClient)

    const x5c = await run(home, [
      ...certArgs(home),
      '--certificate',
      cert.pemFile,
      '--scope',
      graph,
      '--send-x5c',
      '--force-refresh',
      '--client-claims',
      '{"xms_az_claim":"x"}',
    ])
    assert.equal(x5c.exitCode, 0, x5c.stderr)
    const withChain = sts.tokenRequests().at(-1)?.assertion
    assert.equal(withChain?.valid, true, withChain?.failure)
    assert.deepEqual(withChain?.header['x5c'], [cert.certPem.replace(/-----[A-Z ]+-----|\s/g, '')])
    assert.equal(withChain?.payload['xms_az_claim'], 'x')
  })

  test('an encrypted key with its password from stdin or the environment; a wrong password is exit 2', async () => {
    const home = await tempDir()
    const fromStdin = await run(
      home,
      [
        ...certArgs(home),
        '--certificate',
        cert.encryptedPemFile ?? '',
        '--certificate-password-stdin',
        '--scope',
        graph,
      ],
      { input: 'pa ss\n' },
    )
    assert.equal(fromStdin.exitCode, 0, fromStdin.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.assertion?.valid, true)
    const fromEnv = await run(home, [...certBase(), '--scope', 'api://other/.default'], {
      env: {
        AZURE_CLIENT_CERTIFICATE_PATH: cert.encryptedPemFile,
        AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pa ss',
        MSAL_TS_CACHE_DIR: home,
      },
    })
    assert.equal(fromEnv.exitCode, 0, fromEnv.stderr)
    const wrong = await run(
      home,
      [
        ...certArgs(home),
        '--certificate',
        cert.encryptedPemFile ?? '',
        '--certificate-password-stdin',
        '--scope',
        graph,
        '--force-refresh',
      ],
      { input: 'nope' },
    )
    assert.equal(wrong.exitCode, 2)
    assert.equal(wrong.stdout, '')
    assert.match(
      wrong.stderr,
      /^msal-ts: invalid_certificate: cannot use the private key: wrong password/,
    )
    const noPassword = await run(home, [
      ...certArgs(home),
      '--certificate',
      cert.encryptedPemFile ?? '',
      '--scope',
      graph,
      '--force-refresh',
    ])
    assert.equal(noPassword.exitCode, 2)
    assert.equal(noPassword.stdout, '')
    assert.match(
      noPassword.stderr,
      /^msal-ts: invalid_certificate: the private key is encrypted; give its password \(the certificate passphrase\): pass --certificate-password-stdin or set AZURE_CLIENT_CERTIFICATE_PASSWORD\n$/,
    )
  })

  test("a key that is not the certificate's, or a password for a key without one, is refused before any request; AZURE_CLIENT_CERTIFICATE_PATH takes --private-key", async () => {
    const home = await tempDir()
    const other = makeClientCertificate(home, 'other')
    sts.clearLog()
    const refusals: [string[], Record<string, string>, RegExp][] = [
      [
        ['--certificate', cert.certFile, '--private-key', other.keyFile],
        {},
        new RegExp(
          `^msal-ts: invalid_certificate: the private key and the certificate in ${other.keyFile} and ${cert.certFile} are not one pair: `,
        ),
      ],
      [
        ['--private-key', other.keyFile],
        { AZURE_CLIENT_CERTIFICATE_PATH: cert.certFile },
        new RegExp(`in ${other.keyFile} and ${cert.certFile} are not one pair`),
      ],
      [
        ['--certificate', cert.pemFile, '--certificate-password-stdin'],
        {},
        new RegExp(
          `^msal-ts: conflicting_options: --certificate-password-stdin: the private key in ${cert.pemFile} is not encrypted\\n$`,
        ),
      ],
    ]
    for (const [options, env, message] of refusals) {
      const result = await run(home, [...certArgs(home), ...options, '--scope', graph], {
        env,
        input: 'pa ss\n',
      })
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, message)
      assert.equal(result.stderr.split('\n').length, 2, result.stderr)
    }
    assert.deepEqual(sts.log, [])

    const fromVariable = await run(
      home,
      [...certArgs(home), '--private-key', cert.keyFile, '--scope', graph],
      { env: { AZURE_CLIENT_CERTIFICATE_PATH: cert.certFile } },
    )
    assert.equal(fromVariable.exitCode, 0, fromVariable.stderr)
    const [request] = sts.tokenRequests()
    assert.equal(request?.assertion?.valid, true)
  })

  test('an assertion file is read afresh on every run', async () => {
    const home = await tempDir()
    const file = join(home, 'federated-token')
    const key = await importPKCS8(cert.keyPem, 'RS256')
    const sign = (jti: string) =>
      new SignJWT({ jti })
        .setProtectedHeader({
          alg: 'RS256',
          x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
        })
        .setIssuer(certClient)
        .setSubject(certClient)
        .setAudience(`${sts.url}/${sts.tenantId}/oauth2/v2.0/token`)
        .setExpirationTime('10m')
        .sign(key)
    const first = await sign('one')
    await writeFile(file, `${first}\n`)
    const a = await run(home, [
      ...certArgs(home),
      '--client-assertion-file',
      file,
      '--scope',
      graph,
    ])
    assert.equal(a.exitCode, 0, a.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_assertion'], first)
    const second = await sign('two')
    await writeFile(file, second)
    const b = await run(home, [...certBase(), '--scope', graph, '--force-refresh'], {
      env: { AZURE_FEDERATED_TOKEN_FILE: file, MSAL_TS_CACHE_DIR: home },
    })
    assert.equal(b.exitCode, 0, b.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_assertion'], second)
  })

  test('with a warm HTTP cache a token run makes exactly one request', async () => {
    const home = await tempDir()
    await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    sts.clearLog()
    const again = await run(home, [...secretArgs, '--scope', 'api://another/.default'], {
      env: secretEnv(),
    })
    assert.equal(again.exitCode, 0, again.stderr)
    assert.deepEqual(
      sts.log.map((r) => `${r.method} ${r.path}`),
      [`POST /${sts.tenantId}/oauth2/v2.0/token`],
    )
  })

  test('instance discovery runs against a configured endpoint, then is cached too', async () => {
    const home = await tempDir()
    sts.clearLog()
    const env = {
      ...secretEnv(),
      MSAL_TS_INSTANCE_DISCOVERY_URL: `${sts.url}/common/discovery/instance`,
    }
    const first = await run(home, [...secretArgs, '--scope', graph], { env })
    assert.equal(first.exitCode, 0, first.stderr)
    assert.deepEqual(
      sts.log.map((r) => r.path),
      [
        '/common/discovery/instance',
        `/${sts.tenantId}/v2.0/.well-known/openid-configuration`,
        `/${sts.tenantId}/oauth2/v2.0/token`,
      ],
    )
    sts.clearLog()
    await run(home, [...secretArgs, '--scope', 'api://x/.default'], { env })
    assert.deepEqual(
      sts.log.map((r) => r.path),
      [`/${sts.tenantId}/oauth2/v2.0/token`],
    )
  })

  test('an Entra-shaped host instance discovery does not know is refused; --no-validate-authority trusts it', async () => {
    const home = await tempDir()
    // The same STS under a name its instance discovery does not vouch for.
    const unknown = `https://localhost:${new URL(sts.url).port}/${sts.tenantId}`
    const args = [
      'client-token',
      '-c',
      sts.defaults.confidentialClientId,
      '-a',
      unknown,
      '--ca-file',
      sts.caFile,
      '--scope',
      graph,
    ]
    const env = {
      ...secretEnv(),
      MSAL_TS_INSTANCE_DISCOVERY_URL: `${sts.url}/common/discovery/instance`,
    }
    sts.clearLog()
    const refused = await run(home, args, { env })
    assert.equal(refused.exitCode, 1)
    assert.equal(refused.stdout, '')
    assert.match(
      refused.stderr,
      /^msal-ts: invalid_instance: localhost:\d+ is not a known Entra ID authority/,
    )
    assert.match(refused.stderr, /--no-validate-authority/)
    assertNoStack(refused.stderr)
    assert.deepEqual(
      sts.log.map((r) => r.path),
      ['/common/discovery/instance'],
    )

    sts.clearLog()
    const trusted = await run(home, [...args, '--no-validate-authority'], { env })
    assert.equal(trusted.exitCode, 0, trusted.stderr)
    assert.ok(trusted.stdout.trim().length > 0, 'a token')
    assert.deepEqual(
      sts.log.map((r) => [r.path, r.headers['host']]),
      [
        [`/${sts.tenantId}/v2.0/.well-known/openid-configuration`, new URL(unknown).host],
        [`/${sts.tenantId}/oauth2/v2.0/token`, new URL(sts.url).host],
      ],
      'no instance discovery; the token endpoint the configuration names',
    )
  })

  test('the Azure SDK variables alone are enough', async () => {
    const home = await tempDir()
    const result = await run(
      home,
      ['client-token', '--ca-file', sts.caFile, '--resource', 'api://env-only'],
      {
        env: {
          AZURE_CLIENT_ID: sts.defaults.confidentialClientId,
          AZURE_TENANT_ID: sts.tenantId,
          AZURE_AUTHORITY_HOST: sts.url,
          AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
        },
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    const request = sts.tokenRequests().at(-1)
    assert.equal(request?.path, `/${sts.tenantId}/oauth2/v2.0/token`)
    assert.equal(request?.form?.['scope'], 'api://env-only/.default')
  })

  test('--insecure works without the CA and warns on every run', async () => {
    const home = await tempDir()
    const args = [
      'client-token',
      '-c',
      sts.defaults.confidentialClientId,
      '-a',
      sts.authority(),
      '--insecure',
    ]
    for (let i = 0; i < 2; i++) {
      const result = await run(home, [...args, '--scope', graph], { env: secretEnv() })
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(
        result.stderr,
        /^msal-ts: warning: TLS certificate verification is off \(--insecure\)/,
      )
    }
  })

  test('a short Retry-After on 429 is waited for; a long one is kept for the next process too', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: '/oauth2/v2.0/token' },
      status: 429,
      headers: { 'Retry-After': '1' },
    })
    const short = await run(home, [...secretArgs, '--scope', 'api://throttled/.default'], {
      env: secretEnv(),
    })
    assert.equal(short.exitCode, 0, short.stderr)
    const [throttled, retried] = sts.tokenRequests().slice(-2)
    assert.equal(throttled?.status, 429)
    assert.equal(retried?.status, 200)
    assert.ok((retried?.time ?? 0) - (throttled?.time ?? 0) >= 1000, 'waited for Retry-After')

    sts.inject({
      match: { path: '/oauth2/v2.0/token' },
      status: 429,
      headers: { 'Retry-After': '120' },
    })
    const long = await run(home, [...secretArgs, '--scope', 'api://busy/.default'], {
      env: secretEnv(),
    })
    assert.equal(long.exitCode, 1)
    assert.match(long.stderr, /^msal-ts: \w+: /)
    sts.clearLog()
    const next = await run(home, [...secretArgs, '--scope', 'api://busy/.default'], {
      env: secretEnv(),
    })
    assert.equal(next.exitCode, 1)
    assert.equal(next.stdout, '')
    assert.deepEqual(sts.tokenRequests(), [], 'the throttle holds across processes')
  })

  test('debug logging shows the requests and never the secret or the token', async () => {
    const home = await tempDir()
    const result = await run(home, [...secretArgs, '--scope', graph, '--log-level', 'debug'], {
      env: secretEnv(),
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(
      result.stderr,
      /^msal-ts: debug: http POST https:\/\/127\.0\.0\.1:\d+\/[\w-]+\/oauth2\/v2\.0\/token 200 /m,
    )
    assert.ok(!result.stderr.includes(sts.defaults.clientSecret))
    assert.ok(!result.stderr.includes(result.stdout.trim()))
  })

  test('a proxy from --proxy or HTTPS_PROXY carries the requests, NO_PROXY bypasses it', async () => {
    const proxy = await startConnectProxy()
    const { tunnels, url: proxyUrl } = proxy
    try {
      const home = await tempDir()
      const viaOption = await run(
        home,
        [...secretArgs, '--scope', 'api://proxied/.default', '--proxy', proxyUrl],
        { env: secretEnv() },
      )
      assert.equal(viaOption.exitCode, 0, viaOption.stderr)
      assert.ok(tunnels.includes(new URL(sts.url).host), `tunnels: ${tunnels.join(', ')}`)
      tunnels.length = 0
      const viaEnv = await run(await tempDir(), [...secretArgs, '--scope', graph], {
        env: { ...secretEnv(), HTTPS_PROXY: proxyUrl },
      })
      assert.equal(viaEnv.exitCode, 0, viaEnv.stderr)
      assert.deepEqual(
        [...new Set(tunnels)],
        [new URL(sts.url).host],
        'one kept-alive tunnel to the STS',
      )
      tunnels.length = 0
      const bypassed = await run(await tempDir(), [...secretArgs, '--scope', graph], {
        env: { ...secretEnv(), HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' },
      })
      assert.equal(bypassed.exitCode, 0, bypassed.stderr)
      assert.deepEqual(tunnels, [])
    } finally {
      proxy.close()
    }
  })

  test('an https proxy is trusted through the CA of --ca-file, as the identity provider is', async () => {
    // A proxy that inspects TLS shows a certificate of the company's CA, which --ca-file names.
    const proxy = await startConnectProxy(makeHostCertificate(dirname(sts.caFile), 'localhost'))
    try {
      const result = await run(
        await tempDir(),
        [...secretArgs, '--scope', graph, '--proxy', proxy.url],
        { env: secretEnv() },
      )
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^eyJ/)
      assert.deepEqual([...new Set(proxy.tunnels)], [new URL(sts.url).host])
    } finally {
      proxy.close()
    }
  })

  test('an https proxy named by its IP address gets no TLS server name, so Node warns of nothing', async () => {
    const { serverCertPem: certPem, serverKeyPem: keyPem } = makePki(dirname(sts.caFile))
    const proxy = await startConnectProxy({ certPem, keyPem })
    try {
      const byAddress = proxy.url.replace('//localhost:', '//127.0.0.1:')
      for (const nodeOptions of [undefined, '--throw-deprecation']) {
        const result = await run(
          await tempDir(),
          [...secretArgs, '--scope', graph, '--proxy', byAddress],
          { env: { ...secretEnv(), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) } },
        )
        assert.equal(result.exitCode, 0, result.stderr)
        assert.equal(result.stderr, '')
        assert.match(result.stdout, /^eyJ/)
      }
      assert.deepEqual([...new Set(proxy.tunnels)], [new URL(sts.url).host])
    } finally {
      proxy.close()
    }
  })

  test('a proxy nothing listens on is named as what cannot be reached, not the identity provider', async () => {
    const port = await freePort()
    const result = await run(
      await tempDir(),
      [...secretArgs, '--scope', graph, '--proxy', `http://127.0.0.1:${port}`, '--timeout', '3'],
      { env: secretEnv() },
    )
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.equal(
      result.stderr,
      `msal-ts: connection_failed: cannot reach 127.0.0.1:${port} on the way to ${new URL(sts.url).host} (a proxy?): ECONNREFUSED\n`,
    )
  })

  test('a proxy that closes every connection fails the run after one retry', async () => {
    let connections = 0
    const proxy = createNetServer((socket) => {
      connections += 1
      socket.on('error', () => undefined)
      socket.once('data', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      const result = await run(
        await tempDir(),
        [...secretArgs, '--scope', graph, '--proxy', `http://${proxyHost}`, '--timeout', '3'],
        { env: secretEnv() },
      )
      assert.equal(result.exitCode, 1)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr,
        `msal-ts: connection_failed: cannot reach ${new URL(sts.url).host} through the proxy ${proxyHost}: the proxy closed the connection\n`,
      )
      assert.ok(connections <= 2, `${connections} connections to the proxy`)
    } finally {
      proxy.close()
    }
  })

  test('--timeout bounds every request', async () => {
    const home = await tempDir()
    await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    sts.inject({ match: { path: '/oauth2/v2.0/token' }, kind: 'hang', times: 2 })
    const result = await run(
      home,
      [...secretArgs, '--scope', graph, '--force-refresh', '--timeout', '1'],
      { env: secretEnv() },
    )
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^msal-ts: timeout: 127\.0\.0\.1:\d+ did not answer within 1 s\n$/)
    sts.clearFaults()
  })

  test('a 500 is retried once', async () => {
    const home = await tempDir()
    await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    sts.clearLog()
    sts.inject({ match: { path: '/oauth2/v2.0/token' }, status: 500 })
    const result = await run(home, [...secretArgs, '--scope', graph, '--force-refresh'], {
      env: secretEnv(),
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.deepEqual(
      sts.tokenRequests().map((r) => r.status),
      [500, 200],
    )
  })

  test('identity provider errors are exit 1 with one line, then its codes and trace id', async () => {
    const home = await tempDir()
    const result = await run(home, [...secretArgs, '--scope', graph], {
      env: { AZURE_CLIENT_SECRET: 'wrong' },
    })
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    const [first, second, third] = result.stderr.split('\n')
    assert.match(first ?? '', /^msal-ts: invalid_client: AADSTS7000215: /)
    assert.match(
      second ?? '',
      /error_codes 7000215; trace_id [0-9a-f-]{36}; correlation_id [0-9a-f-]{36}/,
    )
    assert.equal(third, '')
  })

  test('control characters from the provider never reach the terminal', async () => {
    const home = await tempDir()
    sts.inject({
      match: { path: '/oauth2/v2.0/token' },
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'bad \u001b[2J\u001b]0;owned\u0007 news',
      },
    })
    const result = await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    assert.equal(result.exitCode, 1)
    assert.equal(
      result.stderr,
      'msal-ts: invalid_request: bad \\u001b[2J\\u001b]0;owned\\u0007 news\n',
    )
  })

  test('garbage and truncated bodies are exit 1 with a clear message', async () => {
    const home = await tempDir()
    sts.inject({ match: { path: '/oauth2/v2.0/token' }, kind: 'garbage' })
    const garbage = await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    assert.equal(garbage.exitCode, 1)
    assert.match(
      garbage.stderr,
      /^msal-ts: invalid_response: 127\.0\.0\.1:\d+ answered 200 with a body that is not a JSON object\n$/,
    )
    sts.inject({ match: { path: '/oauth2/v2.0/token' }, kind: 'truncated', times: 2 })
    const truncated = await run(home, [...secretArgs, '--scope', graph], { env: secretEnv() })
    assert.equal(truncated.exitCode, 1)
    assert.equal(truncated.stdout, '')
    assertNoStack(truncated.stderr)
    assert.match(truncated.stderr, /^msal-ts: connection_failed: cannot reach 127\.0\.0\.1:\d+/)
  })

  test('an untrusted certificate is a TLS error, exit 1', async () => {
    const home = await tempDir()
    const result = await run(
      home,
      ['client-token', '-c', 'x', '-a', sts.authority(), '--scope', graph],
      { env: secretEnv() },
    )
    assert.equal(result.exitCode, 1)
    assert.match(
      result.stderr,
      /^msal-ts: tls_error: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(\w+\); pass --ca-file/,
    )
  })

  test('bad input is exit 2 with one line: authority, PEM, JSON, missing credential, missing scope', async () => {
    const home = await tempDir()
    const badPem = join(home, 'bad.pem')
    await writeFile(
      badPem,
      `${cert.keyPem}-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n`,
    )
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['client-token', '-c', 'x', '-a', 'http://example.com/t', '--scope', graph],
        secretEnv(),
        /^msal-ts: invalid_authority: /,
      ],
      [
        ['client-token', '-c', 'x', '-a', 'not a url', '--scope', graph],
        secretEnv(),
        /^msal-ts: invalid_authority: /,
      ],
      [
        [...certArgs(home), '--certificate', badPem, '--scope', graph],
        {},
        /^msal-ts: invalid_certificate: /,
      ],
      [
        [...certArgs(home), '--certificate', join(home, 'missing.pem'), '--scope', graph],
        {},
        /^msal-ts: unreadable_file: cannot read the certificate file .*: no such file/,
      ],
      [
        [
          ...certArgs(home),
          '--certificate',
          cert.pemFile,
          '--scope',
          graph,
          '--client-claims',
          '{oops',
        ],
        {},
        /^msal-ts: invalid_json: --client-claims is not valid JSON/,
      ],
      [[...secretArgs, '--scope', graph], {}, /^msal-ts: missing_credential: /],
      [[...secretArgs], secretEnv(), /^msal-ts: missing_scope: /],
      [
        [...secretArgs, '--scope', graph, '--client-secret', 'a', '--client-secret-file', 'b'],
        {},
        /^msal-ts: conflicting_credentials: /,
      ],
      [
        [...secretArgs, '--scope', graph, '-o', 'yaml'],
        secretEnv(),
        /^msal-ts: usage: option '-o, --output <format>' argument 'yaml' is invalid/,
      ],
      [['client-token', '--scope', graph], secretEnv(), /^msal-ts: missing_client_id: /],
    ]
    for (const [args, env, message] of cases) {
      const result = await run(home, args, { env })
      assert.equal(result.exitCode, 2, `${args.join(' ')}\n${result.stderr}`)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, message)
      assertNoStack(result.stderr)
    }
  })

  test('a corrupt cache is kept aside, reported once, and replaced by a valid one', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'cache.json')
    await writeFile(cacheFile, '{"AccessToken": {"truncated')
    const result = await run(home, [...secretArgs, '--scope', graph, '--cache-file', cacheFile], {
      env: secretEnv(),
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr.match(/warning/g)?.length, 1, result.stderr)
    assert.match(result.stderr, /moved it to .*cache\.json\.corrupt-\d{8}T\d{6}Z/)
    const aside = (await readdir(home)).filter((name) => name.startsWith('cache.json.corrupt-'))
    assert.equal(aside.length, 1)
    assert.equal(await readFile(join(home, aside[0] ?? ''), 'utf8'), '{"AccessToken": {"truncated')
    const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as { AccessToken: object }
    assert.equal(Object.keys(doc.AccessToken).length, 1)
  })

  test('20 processes on one cache file all succeed, share one token request, and leave one valid 0600 file', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'shared', 'cache.json')
    await run(
      home,
      [...secretArgs, '--scope', 'api://warm-up/.default', '--cache-file', cacheFile],
      { env: secretEnv() },
    )
    sts.clearLog()
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        run(home, [...secretArgs, '--scope', graph, '--cache-file', cacheFile], {
          env: secretEnv(),
        }),
      ),
    )
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr)
    }
    assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'everyone got the same token')
    assert.equal(
      sts.tokenRequests().length,
      1,
      'single flight: one token request for twenty processes',
    )
    const doc = JSON.parse(await readFile(cacheFile, 'utf8')) as { AccessToken: object }
    assert.equal(Object.keys(doc.AccessToken).length, 2)
    assert.equal((await stat(cacheFile)).mode & 0o777, 0o600)
    assert.deepEqual(
      (await readdir(join(home, 'shared'))).filter((n) => !n.endsWith('.json')),
      [],
      'no lock or temp file left',
    )
  })

  test('20 processes on a cold cache make one discovery request and one token request between them', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'cold', 'cache.json')
    sts.clearLog()
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        run(home, [...secretArgs, '--scope', graph, '--cache-file', cacheFile], {
          env: secretEnv(),
        }),
      ),
    )
    for (const result of results) {
      assert.equal(result.exitCode, 0, result.stderr)
    }
    assert.deepEqual(
      sts.log.map((r) => `${r.method} ${r.path}`),
      [
        `GET /${sts.tenantId}/v2.0/.well-known/openid-configuration`,
        `POST /${sts.tenantId}/oauth2/v2.0/token`,
      ],
    )
  })

  test('MSAL Python reads the cache file msal-ts wrote and finds the token without a request', async () => {
    const home = await tempDir()
    const cacheFile = join(home, 'msal.json')
    const ours = await run(home, [...secretArgs, '--scope', graph, '--cache-file', cacheFile], {
      env: secretEnv(),
    })
    assert.equal(ours.exitCode, 0, ours.stderr)
    sts.clearLog()
    const script = join(import.meta.dirname, '../interop/msal_python_client_token.py')
    const python = await execa(
      '/usr/bin/python3',
      [script, cacheFile, sts.defaults.confidentialClientId, sts.authority(), sts.caFile, graph],
      {
        reject: false,
        env: cleanEnv(home),
        extendEnv: false,
      },
    )
    assert.equal(python.exitCode, 0, python.stderr)
    assert.deepEqual(JSON.parse(python.stdout), { access_token: ours.stdout.trim(), error: null })
    assert.deepEqual(sts.tokenRequests(), [], 'MSAL Python answered from the cache')
  })
})
