/**
 * Hostile answers from the identity provider and managed identity endpoints (issue #15, classes 1,
 * 4, 5, 6, 7 and 11): each ends in exit 1 with one line on stderr (plus the provider's details line
 * for an OAuth error), nothing on stdout and the token cache untouched.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Server, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createHttpClient } from '../../src/core/http/client.js'
import { sendJson, serveOnLoopback } from '../fixtures/loopback-server.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, type CliResult, run, tempDir } from './harness.js'

const vault = 'https://vault.azure.net'
const host = String.raw`127\.0\.0\.1:\d+`

/** Exit 1, `msal-ts: <error>` alone (or with the provider's details line), no token, no stack. */
function assertRefused(result: CliResult, error: RegExp): void {
  assert.equal(result.exitCode, 1, result.stderr)
  assert.equal(result.stdout, '', 'no token on stdout')
  assertNoStack(result.stderr)
  const [first = '', ...rest] = result.stderr.replace(/\n$/, '').split('\n')
  assert.match(first, /^msal-ts: /)
  assert.match(first.replace(/^msal-ts: /, ''), error)
  assert.ok(
    rest.length === 0 || (rest.length === 1 && /^ {2}status \d+; /.test(rest[0] ?? '')),
    `one error line, and at most the provider's details:\n${result.stderr}`,
  )
}

describe('client-token against hostile token endpoint answers', () => {
  let sts: Sts

  before(async () => {
    sts = await startSts()
  })
  after(() => sts.close())

  const base = (cacheFile: string) => [
    'client-token',
    ...sts.cliArgs(sts.defaults.confidentialClientId),
    '--cache-file',
    cacheFile,
  ]
  const env = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })
  const token = (fields: Record<string, unknown>) => ({
    access_token: 'eyJ0eXAiOiJKV1QifQ.e30.c2ln',
    token_type: 'Bearer',
    expires_in: 3599,
    ...fields,
  })

  const cases: { name: string; status?: number; body: object; output: string; error: RegExp }[] = [
    {
      name: 'token_type mac',
      body: token({ token_type: 'mac' }),
      output: 'header',
      error: new RegExp(
        `^invalid_response: ${host} answered a token of type "mac" to a request for Bearer$`,
      ),
    },
    {
      name: 'a PoP token to a bearer request',
      body: token({ token_type: 'pop' }),
      output: 'header',
      error: /^invalid_response: .* answered a token of type "pop" to a request for Bearer$/,
    },
    {
      name: 'CR/LF in token_type',
      body: token({ token_type: 'Bearer\r\nX-Injected: 1' }),
      output: 'header',
      error: new RegExp(`^invalid_response: ${host} answered a token_type that is not a plain`),
    },
    {
      name: 'CR/LF in access_token',
      body: token({ access_token: 'abc\r\nX-Injected: 1' }),
      output: 'header',
      error: new RegExp(`^invalid_response: ${host} answered an access token holding a control`),
    },
    {
      name: 'an escape sequence in scope',
      body: token({ scope: `https://graph.microsoft.com/.default \u001b[31mred` }),
      output: 'env',
      error: new RegExp(`^invalid_response: ${host} answered a scope holding a control character$`),
    },
    {
      name: 'expires_in 1e21',
      body: token({ expires_in: 1e21 }),
      output: 'kubectl',
      error: new RegExp(`^invalid_response: ${host} answered expires_in 1e\\+21, not a lifetime`),
    },
    {
      name: 'expires_in "soon"',
      body: token({ expires_in: 'soon' }),
      output: 'json',
      error: /^invalid_response: .* answered expires_in "soon", not a lifetime/,
    },
    {
      name: 'a refresh_token that is a number',
      body: token({ refresh_token: 7 }),
      output: 'json',
      error: /^invalid_response: .* answered a refresh_token that is not a string$/,
    },
    {
      name: 'error_codes as a string',
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: bad secret',
        error_codes: '7000215',
      },
      output: 'raw',
      error: /^invalid_client: AADSTS7000215: bad secret$/,
    },
    {
      name: 'a numeric error_description',
      status: 400,
      body: { error: 'invalid_scope', error_description: 42, trace_id: ['x'] },
      output: 'raw',
      error: /^invalid_scope: the identity provider answered 400$/,
    },
  ]

  for (const c of cases) {
    test(`${c.name} (-o ${c.output}): exit 1, one line, the cache byte-identical`, async () => {
      const home = await tempDir()
      const cacheFile = join(home, 'c', 'tokens.json')
      const warm = await run(home, [...base(cacheFile), '--scope', 'api://warm/.default'], {
        env: env(),
      })
      assert.equal(warm.exitCode, 0, warm.stderr)
      const before = await readFile(cacheFile)
      sts.inject({
        match: { path: '/oauth2/v2.0/token' },
        status: c.status ?? 200,
        body: c.body,
      })
      const result = await run(
        home,
        [...base(cacheFile), '--scope', 'api://hostile/.default', '-o', c.output],
        { env: env() },
      )
      sts.clearFaults()
      assertRefused(result, c.error)
      assert.deepEqual(await readFile(cacheFile), before, 'the token cache file is byte-identical')
    })
  }

  test('a discovered plain-http token endpoint on another host gets nothing: exit 1 before any request', async () => {
    const http = createHttpClient({ ca: [sts.caPem] })
    const configurationPath = `/${sts.tenantId}/v2.0/.well-known/openid-configuration`
    const configuration = JSON.parse(
      (await http.request({ method: 'GET', url: `${sts.url}${configurationPath}` })).body,
    ) as Record<string, unknown>
    await http.close()
    const home = await tempDir()
    const cacheFile = join(home, 'c', 'tokens.json')
    sts.inject({
      match: { path: '/.well-known/openid-configuration' },
      times: Infinity,
      body: {
        ...configuration,
        token_endpoint: `http://sts.example.test/${sts.tenantId}/oauth2/v2.0/token`,
      },
    })
    sts.clearLog()
    const result = await run(home, [...base(cacheFile), '--scope', 'api://x/.default'], {
      env: env(),
    })
    sts.clearFaults()
    // Refused here or by the discovery document's own checks, but never by a failed connection.
    assertRefused(result, /^(?!connection_failed|timeout)\w+: .*(http|sts\.example\.test)/)
    assert.ok(!result.stderr.includes(sts.defaults.clientSecret))
    assert.equal(sts.tokenRequests().length, 0)
    assert.equal(existsSync(cacheFile), false, 'nothing cached')
  })
})

describe('client-token --managed-identity against hostile answers', () => {
  let endpoint: { server: Server; url: string }
  /** How the stand-in answers a token request (the IMDS probe, a bare GET, is answered 400). */
  let answer: (res: ServerResponse) => void = () => undefined
  let tokenRequests = 0

  before(async () => {
    endpoint = await serveOnLoopback(async (req, res) => {
      for await (const chunk of req) {
        void chunk
      }
      if (!(req.url ?? '').includes('?')) {
        sendJson(res, 400, { error: 'invalid_request' })
        return
      }
      tokenRequests++
      answer(res)
    })
  })
  after(async () => {
    endpoint.server.closeAllConnections()
    await new Promise((resolve) => endpoint.server.close(resolve))
  })

  const miRun = async (env: Record<string, string>) => {
    const home = await tempDir()
    const cacheFile = join(home, 'c', 'tokens.json')
    const result = await run(
      home,
      [
        'client-token',
        '--managed-identity',
        '--resource',
        vault,
        '-o',
        'header',
        '--cache-file',
        cacheFile,
      ],
      // IMDS on loopback whatever the source, so nothing ever goes to 169.254.169.254.
      { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: endpoint.url, ...env } },
    )
    return { result, cacheFile }
  }

  test('IMDS sending an endless body: exit 1 once past 1 MiB, nothing cached', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 'a')
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          // fill the socket
        }
        if (!res.destroyed) {
          res.once('drain', pump)
        }
      }
      res.write('{"access_token":"')
      pump()
    }
    const { result, cacheFile } = await miRun({})
    assertRefused(
      result,
      new RegExp(`^response_too_large: answer from ${host} is larger than 1 MiB$`),
    )
    assert.equal(existsSync(cacheFile), false, 'nothing cached')
  })

  const now = () => Math.floor(Date.now() / 1000)
  for (const [name, body, error] of [
    ['token_type mac', { token_type: 'mac' }, /a token of type "mac" to a request for Bearer$/],
    [
      'CR/LF in token_type',
      { token_type: 'Bearer\r\nX-Injected: 1' },
      /a token_type that is not a plain string$/,
    ],
    [
      'CR/LF in access_token',
      { access_token: 'at\r\nX-Injected: 1' },
      /an access token holding a control character$/,
    ],
    ['expires_on 1e21', { expires_on: 1e21 }, /expires_on 1e\+21, not a lifetime/],
  ] as [string, Record<string, unknown>, RegExp][]) {
    test(`App Service answering ${name}: exit 1, one line, nothing cached`, async () => {
      tokenRequests = 0
      answer = (res) =>
        sendJson(res, 200, {
          access_token: 'mi-token',
          token_type: 'Bearer',
          expires_on: String(now() + 3600),
          resource: vault,
          ...body,
        })
      const { result, cacheFile } = await miRun({
        IDENTITY_ENDPOINT: `${endpoint.url}/appservice?x=1`,
        IDENTITY_HEADER: 'header',
      })
      assertRefused(
        result,
        new RegExp(`^invalid_response: the App Service identity endpoint answered ${error.source}`),
      )
      assert.equal(tokenRequests, 1)
      assert.equal(existsSync(cacheFile), false, 'nothing cached')
    })
  }
})
