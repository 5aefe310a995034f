/**
 * Nothing secret in the logs: every command runs at `--log-level debug` without `--pii`, and its
 * stderr is scanned for every secret the run used or received (access, refresh and ID tokens, the
 * client secret, the assertion, the authorization code, the password; the username in log lines).
 * Files holding tokens or flows are 0600 in 0700 directories.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { importPKCS8, SignJWT } from 'jose'
import { Agent, request } from 'undici'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { withoutCaFile, type CliResult, run, tempDir } from './harness.js'
import { ask, startServe } from './serve-process.js'

interface Secrets {
  [what: string]: string
}

/** Every string value of the token cache's entries that is a secret. */
function cacheSecrets(text: string): string[] {
  const doc = JSON.parse(text) as Record<string, Record<string, { secret?: unknown }>>
  return ['AccessToken', 'RefreshToken', 'IdToken'].flatMap((section) =>
    Object.values(doc[section] ?? {}).flatMap((entry) =>
      typeof entry.secret === 'string' ? [entry.secret] : [],
    ),
  )
}

describe('no secret in any log line at --log-level debug', () => {
  let sts: Sts
  let browser: Agent
  let home: string
  const runs: { name: string; result: CliResult }[] = []
  const secrets: Secrets = {}

  before(async () => {
    sts = await startSts()
    browser = new Agent({ connect: { ca: sts.caPem } })
    home = await tempDir()
  })
  after(async () => {
    await browser.close()
    await sts.close()
  })

  const pub = () => sts.cliArgs(sts.defaults.publicClientId)
  const debug = ['--log-level', 'debug']

  async function step(name: string, args: string[], input?: string, env?: Record<string, string>) {
    const result = await run(home, [...args, ...debug], {
      ...(input === undefined ? {} : { input }),
      ...(env === undefined ? {} : { env }),
    })
    assert.equal(result.exitCode, 0, `${name}: ${result.stderr}|${result.stdout}`)
    runs.push({ name, result })
    return result
  }

  test('every command, then a scan of everything they wrote to stderr', async () => {
    secrets['password'] = sts.defaults.password
    secrets['client secret'] = sts.defaults.clientSecret
    await step(
      'login (password)',
      ['login', ...pub(), '--username', sts.defaults.username, '--password-stdin', '-o', 'json'],
      sts.defaults.password,
    )
    sts.settings.devicePollScript = ['authorization_pending', 'success']
    await step('login (device code)', [
      'login',
      ...pub(),
      '--device-code',
      '--scope',
      'api://device/read',
    ])
    await step('token (refresh)', ['token', ...pub(), '--scope', 'User.Read', '--force-refresh'])
    await step('token (cache)', ['token', ...pub(), '--scope', 'User.Read', '-o', 'json'])
    await step('accounts', ['accounts', ...withoutCaFile(pub()), '-o', 'json'])

    const flowFile = join(home, 'flow.json')
    const url = await step('auth-url', [
      'auth-url',
      ...pub(),
      '--scope',
      'User.Read',
      '--redirect-uri',
      'http://localhost:8400',
      '--flow-file',
      flowFile,
    ])
    const answer = await request(url.stdout.trim(), { dispatcher: browser })
    await answer.body.text()
    const location = String(answer.headers['location'])
    secrets['authorization code'] = new URL(location).searchParams.get('code') ?? ''
    await step('redeem', ['redeem', ...pub(), '--flow-file', flowFile, '--response', location])

    const cacheDir = join(home, 'cache')
    const cacheName = (await readdir(cacheDir)).find((n) => n.startsWith('token-cache.')) ?? ''
    const [refreshToken] = cacheSecrets(await readFile(join(cacheDir, cacheName), 'utf8')).filter(
      (s) => !s.startsWith('eyJ'),
    )
    await step(
      'migrate-rt',
      ['migrate-rt', ...pub(), '--scope', 'User.Read', '--refresh-token-stdin'],
      refreshToken,
    )

    // serve at debug level: its secret, and the token it hands out, in no line of its stderr.
    const serve = await startServe(home, [...pub(), '--account', sts.defaults.username, ...debug])
    const served = await ask(serve, { resource: 'api://served' })
    assert.equal(served.status, 200, served.body)
    secrets['identity header'] = serve.secret
    secrets['served token'] = (JSON.parse(served.body) as { access_token: string }).access_token
    serve.kill('SIGINT')
    const serveResult = await serve.done
    assert.equal(serveResult.exitCode, 130, serveResult.stderr)
    runs.push({ name: 'serve', result: serveResult })

    const conf = ['client-token', ...sts.cliArgs(sts.defaults.confidentialClientId)]
    await step('client-token (secret)', [...conf, '--scope', 'api://secret/.default'], undefined, {
      AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
    })
    const certClient = '11111111-2222-4333-8444-555555555555'
    const cert = makeClientCertificate(home, 'app')
    sts.addClient({ clientId: certClient, certificatePem: cert.certPem })
    const certArgs = ['client-token', ...sts.cliArgs(certClient)]
    await step('client-token (certificate)', [
      ...certArgs,
      '--certificate',
      cert.pemFile,
      '--scope',
      'api://cert/.default',
    ])
    secrets['certificate assertion'] = sts.tokenRequests().at(-1)?.form?.['client_assertion'] ?? ''
    const assertion = await new SignJWT({ jti: 'leak-test' })
      .setProtectedHeader({
        alg: 'RS256',
        x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
      })
      .setIssuer(certClient)
      .setSubject(certClient)
      .setAudience(`${sts.url}/${sts.tenantId}/oauth2/v2.0/token`)
      .setExpirationTime('10m')
      .sign(await importPKCS8(cert.keyPem, 'RS256'))
    secrets['client assertion'] = assertion
    const assertionFile = join(home, 'assertion.jwt')
    await writeFile(assertionFile, assertion)
    await step('client-token (assertion)', [
      ...certArgs,
      '--client-assertion-file',
      assertionFile,
      '--scope',
      'api://assertion/.default',
    ])
    const devOps = await step(
      'git-credential',
      ['git-credential', 'get', ...pub()],
      'protocol=https\nhost=dev.azure.com\n\n',
    )
    const devOpsToken = /^password=(.+)$/m.exec(devOps.stdout)?.[1] ?? ''
    await step('decode --verify', ['decode', '--verify', '--ca-file', sts.caFile], devOpsToken)
    await step('logout', ['logout', ...withoutCaFile(pub()), '--all', '--yes'])

    // Whatever the provider issued: every token the cache ever held and every token printed.
    for (const [i, s] of cacheSecrets(
      await readFile(join(cacheDir, cacheName), 'utf8'),
    ).entries()) {
      secrets[`cached secret ${i}`] = s
    }
    for (const { name, result } of runs) {
      for (const token of result.stdout.match(
        /eyJ[\w-]+\.[\w-]+\.[\w-]*|"refresh_token": ?"[^"]+"/g,
      ) ?? []) {
        secrets[`token printed by ${name}`] = token
      }
    }
    for (const entry of sts.tokenRequests()) {
      for (const field of ['refresh_token', 'device_code', 'code']) {
        const value = entry.form?.[field]
        if (value !== undefined) {
          secrets[`${field} sent`] = value
        }
      }
    }

    const leaks: string[] = []
    for (const { name, result } of runs) {
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(secret.length >= 8, `${what} is a real secret`)
        if (result.stderr.includes(secret)) {
          leaks.push(`${name} wrote the ${what} to stderr`)
        }
      }
      const logLines = result.stderr
        .split('\n')
        .filter((l) => /^msal-ts: (debug|info|warning):/.test(l))
      if (logLines.some((l) => l.toLowerCase().includes(sts.defaults.username.toLowerCase()))) {
        leaks.push(`${name} logged the username`)
      }
    }
    assert.deepEqual(
      leaks,
      [],
      `${Object.keys(secrets).length} secrets checked in ${runs.length} runs`,
    )
    assert.equal(runs.length, 15)
    const logged = runs.filter(({ result }) => result.stderr.includes('msal-ts: debug: '))
    // Accounts and logout make no request and answer no token: nothing to log. The cached
    // `token` answer says it came from the cache.
    assert.equal(logged.length, 13, 'the runs did log at debug level')

    // Files that hold tokens or flows, and the directories msal-ts made for them.
    for (const file of [flowFile, join(cacheDir, cacheName)]) {
      assert.equal((await stat(file)).mode & 0o777, 0o600, file)
    }
    for (const directory of [cacheDir]) {
      assert.equal((await stat(directory)).mode & 0o777, 0o700, directory)
    }
  })
})
