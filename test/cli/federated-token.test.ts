import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { startCiRuntime, type CiRuntime } from '../fixtures/ci-runtime.js'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

const graph = 'https://graph.microsoft.com/.default'
const clientId = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'
const webRedirect = 'https://app.contoso.example/auth/callback'

describe('msal-ts client-token --federated-token', () => {
  let sts: Sts
  let runtime: CiRuntime

  before(async () => {
    const dir = await tempDir()
    sts = await startSts()
    const cert = makeClientCertificate(dir, 'ci')
    sts.addClient({ clientId, certificatePem: cert.certPem, redirectUris: [webRedirect] })
    runtime = await startCiRuntime({
      clientId,
      tokenEndpoint: `${sts.url}/${sts.tenantId}/oauth2/v2.0/token`,
      certificate: cert,
    })
  })
  after(async () => {
    await runtime.close()
    await sts.close()
  })

  const args = (...rest: string[]) => ['client-token', ...sts.cliArgs(clientId), ...rest]

  /** Neither the federated token, the runtime's bearer tokens nor the access token is in the log. */
  const assertNoSecrets = (stderr: string, accessToken: string) => {
    for (const secret of [
      ...runtime.issued,
      runtime.githubRequestToken,
      runtime.systemAccessToken,
      accessToken,
    ]) {
      assert.ok(!stderr.includes(secret), `a secret leaked to stderr:\n${stderr}`)
    }
  }

  test('github: the Actions token is the client assertion; a repeat is a cache hit that asks nobody', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    const first = await run(
      home,
      args('--federated-token', 'github', '--scope', graph, '--log-level', 'debug'),
      { env: runtime.githubEnv() },
    )
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(first.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.equal(runtime.requests.length, 1)
    const [asked] = runtime.requests
    assert.equal(asked?.method, 'GET')
    assert.equal(asked?.path, '/github/token')
    assert.equal(asked?.query['api-version'], '2.0', 'the runtime URL keeps its own query')
    assert.equal(asked?.query['audience'], 'api://AzureADTokenExchange')
    assert.equal(asked?.headers['authorization'], `Bearer ${runtime.githubRequestToken}`)
    const [tokenRequest] = sts.tokenRequests()
    assert.equal(tokenRequest?.form?.['client_assertion'], runtime.issued[0])
    assert.equal(
      tokenRequest?.form?.['client_assertion_type'],
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    )
    assert.equal(tokenRequest?.assertion?.valid, true, tokenRequest?.assertion?.failure)
    assert.match(first.stderr, /msal-ts: debug: http GET http:\/\/127\.0\.0\.1:\d+\/github\/token/)
    assertNoSecrets(first.stderr, first.stdout.trim())

    sts.clearLog()
    const second = await run(
      home,
      args('--federated-token', 'github', '--scope', graph, '--log-level', 'debug'),
      { env: runtime.githubEnv() },
    )
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.equal(runtime.requests.length, 1, 'a cache hit fetches no federated token')
    assert.deepEqual(sts.log, [])
    assertNoSecrets(second.stderr, first.stdout.trim())
  })

  test('github: --federated-audience, and each token request fetches a fresh federated token', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    for (const round of [1, 2]) {
      const result = await run(
        home,
        args(
          '--federated-token',
          'github',
          '--federated-audience',
          'api://custom-audience',
          '--resource',
          'https://graph.microsoft.com',
          ...(round === 2 ? ['--force-refresh'] : []),
        ),
        { env: runtime.githubEnv() },
      )
      assert.equal(result.exitCode, 0, result.stderr)
    }
    assert.deepEqual(
      runtime.requests.map((r) => r.query['audience']),
      ['api://custom-audience', 'api://custom-audience'],
    )
    assert.equal(runtime.issued.length, 2)
    assert.notEqual(runtime.issued[0], runtime.issued[1])
    assert.deepEqual(
      sts.tokenRequests().map((r) => r.form?.['client_assertion']),
      runtime.issued,
    )
  })

  test('azure-pipelines: POST with the job token and the service connection from the environment', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    const env = runtime.pipelinesEnv('sc-from-env')
    const first = await run(
      home,
      args('--federated-token', 'azure-pipelines', '--scope', graph, '--log-level', 'debug'),
      { env },
    )
    assert.equal(first.exitCode, 0, first.stderr)
    assert.equal(runtime.requests.length, 1)
    const [asked] = runtime.requests
    assert.equal(asked?.method, 'POST')
    assert.equal(asked?.path, '/pipelines/oidctoken')
    assert.equal(asked?.query['api-version'], '7.1')
    assert.equal(asked?.query['serviceConnectionId'], 'sc-from-env')
    assert.equal(asked?.headers['authorization'], `Bearer ${runtime.systemAccessToken}`)
    assert.equal(asked?.headers['content-type'], 'application/json')
    const [tokenRequest] = sts.tokenRequests()
    assert.equal(tokenRequest?.form?.['client_assertion'], runtime.issued[0])
    assert.equal(tokenRequest?.assertion?.valid, true, tokenRequest?.assertion?.failure)
    assertNoSecrets(first.stderr, first.stdout.trim())

    const second = await run(
      home,
      args('--federated-token', 'azure-pipelines', '--scope', graph, '--log-level', 'debug'),
      { env },
    )
    assert.equal(second.exitCode, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.equal(runtime.requests.length, 1, 'a cache hit fetches no federated token')
    assertNoSecrets(second.stderr, first.stdout.trim())

    const flag = await run(
      home,
      args(
        '--federated-token',
        'azure-pipelines',
        '--service-connection-id',
        'sc-from-flag',
        '--scope',
        graph,
        '--force-refresh',
      ),
      { env },
    )
    assert.equal(flag.exitCode, 0, flag.stderr)
    assert.equal(runtime.requests.at(-1)?.query['serviceConnectionId'], 'sc-from-flag')
  })

  test('file:<path> reads the assertion file like --client-assertion-file', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    const response = await fetch(`${runtime.url}/github/token?audience=x`, {
      headers: { authorization: `Bearer ${runtime.githubRequestToken}` },
    })
    const { value } = (await response.json()) as { value: string }
    const file = join(home, 'token')
    await writeFile(file, `${value}\n`)
    const result = await run(home, args('--federated-token', `file:${file}`, '--scope', graph))
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(sts.tokenRequests().at(-1)?.form?.['client_assertion'], value)
    assert.equal(sts.tokenRequests().at(-1)?.assertion?.valid, true)
  })

  test('a missing runtime variable is a usage error naming it; nothing is asked', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    const { ACTIONS_ID_TOKEN_REQUEST_URL } = runtime.githubEnv()
    const github = await run(home, args('--federated-token', 'github', '--scope', graph), {
      env: { ACTIONS_ID_TOKEN_REQUEST_URL },
    })
    assert.equal(github.exitCode, 2)
    assert.equal(github.stdout, '')
    assert.match(
      github.stderr,
      /^msal-ts: missing_environment: .*ACTIONS_ID_TOKEN_REQUEST_TOKEN.*\n$/,
    )

    const noUrl = await run(home, args('--federated-token', 'github', '--scope', graph))
    assert.equal(noUrl.exitCode, 2)
    assert.match(noUrl.stderr, /^msal-ts: missing_environment: .*ACTIONS_ID_TOKEN_REQUEST_URL.*\n$/)

    const pipelines = await run(
      home,
      args('--federated-token', 'azure-pipelines', '--scope', graph),
      { env: runtime.pipelinesEnv() },
    )
    assert.equal(pipelines.exitCode, 2)
    assert.match(
      pipelines.stderr,
      /^msal-ts: missing_environment: .*AZURESUBSCRIPTION_SERVICE_CONNECTION_ID.*; pass --service-connection-id or set it\n$/,
    )
    const { SYSTEM_OIDCREQUESTURI } = runtime.pipelinesEnv()
    const noToken = await run(
      home,
      args('--federated-token', 'azure-pipelines', '--scope', graph),
      { env: { SYSTEM_OIDCREQUESTURI, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 'sc' } },
    )
    assert.equal(noToken.exitCode, 2)
    assert.match(noToken.stderr, /^msal-ts: missing_environment: .*SYSTEM_ACCESSTOKEN.*\n$/)
    assert.deepEqual(runtime.requests, [])
    assert.deepEqual(sts.log, [])
  })

  test('the runtime refusing is a runtime failure on one line, exit 1', async () => {
    const home = await tempDir()
    runtime.clear()
    sts.clearLog()
    runtime.fail(403)
    const result = await run(home, args('--federated-token', 'github', '--scope', graph), {
      env: runtime.githubEnv(),
    })
    assert.equal(result.exitCode, 1)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts: federated_token_failed: the GitHub Actions token service answered 403: injected failure 403\n$/,
    )
    assertNoStack(result.stderr)
    assert.deepEqual(sts.tokenRequests(), [])

    const badToken = await run(
      home,
      args('--federated-token', 'azure-pipelines', '--scope', graph),
      {
        env: { ...runtime.pipelinesEnv('sc'), SYSTEM_ACCESSTOKEN: 'wrong' },
      },
    )
    assert.equal(badToken.exitCode, 1)
    assert.match(
      badToken.stderr,
      /^msal-ts: federated_token_failed: the Azure Pipelines OIDC endpoint answered 401: TF400813: not authorized\n$/,
    )
  })

  test('usage: an unknown source, a second credential, or a companion without --federated-token', async () => {
    const home = await tempDir()
    const unknown = await run(home, args('--federated-token', 'gitlab', '--scope', graph))
    assert.equal(unknown.exitCode, 2)
    assert.match(unknown.stderr, /^msal-ts: invalid_federated_token: /)
    const two = await run(
      home,
      args('--federated-token', 'github', '--client-assertion', 'x', '--scope', graph),
      { env: runtime.githubEnv() },
    )
    assert.equal(two.exitCode, 2)
    assert.match(two.stderr, /^msal-ts: conflicting_credentials: /)
    const lone = await run(home, args('--federated-audience', 'x', '--scope', graph), {
      env: { AZURE_CLIENT_SECRET: 's' },
    })
    assert.equal(lone.exitCode, 2)
    assert.match(lone.stderr, /^msal-ts: missing_option: /)
  })

  test("redeem --federated-token github: a web app redeems a code with the Actions token, asked through the command's own HTTP client", async () => {
    const home = await tempDir()
    const flowFile = join(home, 'flow.json')
    const common = sts.cliArgs(clientId)
    const started = await run(home, [
      'auth-url',
      ...common,
      '--scope',
      'User.Read',
      '--redirect-uri',
      webRedirect,
      '--flow-file',
      flowFile,
    ])
    assert.equal(started.exitCode, 0, started.stderr)
    const browser = new Agent({ connect: { ca: sts.caPem } })
    const answer = await request(started.stdout.trim(), { dispatcher: browser })
    await answer.body.dump()
    await browser.close()
    runtime.clear()
    sts.clearLog()
    const redeemed = await run(
      home,
      [
        'redeem',
        ...common,
        '--federated-token',
        'github',
        '--flow-file',
        flowFile,
        '--response',
        String(answer.headers['location']),
        '--log-level',
        'debug',
      ],
      { env: runtime.githubEnv() },
    )
    assert.equal(redeemed.exitCode, 0, redeemed.stderr)
    assert.equal(runtime.requests.length, 1)
    const [redemption] = sts.tokenRequests()
    assert.equal(redemption?.form?.['grant_type'], 'authorization_code')
    assert.equal(redemption?.form?.['client_assertion'], runtime.issued[0])
    assert.equal(redemption?.assertion?.valid, true, redemption?.assertion?.failure)
    // The command's logger saw the runtime request: the same client as every other request.
    assert.match(
      redeemed.stderr,
      /msal-ts: debug: http GET http:\/\/127\.0\.0\.1:\d+\/github\/token/,
    )
    assertNoSecrets(redeemed.stderr, redeemed.stdout.trim())
  })
})
