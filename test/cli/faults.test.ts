/**
 * The fault matrix: what the network, the TLS layer or the identity provider can do wrong, each
 * against a warm cache. Whatever happens, msal-ts exits with the documented code, says so in one
 * line (plus the provider's details line), prints no token and leaves the token cache untouched.
 */
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Blackhole, startBlackhole } from '../fixtures/blackhole.js'
import { startSts, type BrokenCertificate, type Fault, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

/** Where the fault strikes: the token request itself, or discovery before it (cold HTTP cache). */
type Stage = 'token' | 'discovery'

interface FaultCase {
  name: string
  /** Injected into the fixture STS for the failing run. */
  fault?: Omit<Fault, 'match'>
  /** Served instead of the STS: one with a bad certificate, a host that never resolves, or a port that never completes a connection. */
  server?: BrokenCertificate | 'unresolvable' | 'blackhole'
  /** Without a trusted CA (`--ca-file` left out). */
  untrusted?: boolean
  /** `<code>: <message>` of the one error line, for each stage the case runs at. */
  errors: Partial<Record<Stage, RegExp>>
  /** How many times the faulty endpoint is asked (2: one retry). */
  attempts?: number
  timeout?: number
}

const host = String.raw`127\.0\.0\.1:\d+`
const notJson = {
  token: new RegExp(
    `^invalid_response: ${host} answered 200 with a body that is not a JSON object$`,
  ),
  discovery:
    /^invalid_response: the OpenID configuration answered 200 with a body that is not a JSON object$/,
}
const unreachable = (why: string) => ({
  token: new RegExp(`^connection_failed: cannot reach ${host}: ${why}`),
  discovery: new RegExp(`^connection_failed: cannot reach ${host}: ${why}`),
})
const discovery5xx = (status: number) =>
  new RegExp(`^server_error: the OpenID configuration failed: the server answered ${status}$`)

const cases: FaultCase[] = [
  ...[500, 502, 503, 504].map((status) => ({
    name: `HTTP ${status}`,
    fault: { status, times: 2 },
    errors: {
      token: new RegExp(`^temporarily_unavailable: injected fault \\(HTTP ${status}\\)$`),
      discovery: discovery5xx(status),
    },
    attempts: 2,
  })),
  {
    name: 'an HTML error page from a proxy (502)',
    fault: { kind: 'html', status: 502, times: 2 },
    errors: {
      token: new RegExp(`^server_error: ${host} answered 502$`),
      discovery: discovery5xx(502),
    },
    attempts: 2,
  },
  {
    name: 'an HTML page instead of JSON (200)',
    fault: { kind: 'html', status: 200 },
    errors: notJson,
    attempts: 1,
  },
  { name: 'invalid JSON', fault: { kind: 'garbage' }, errors: notJson, attempts: 1 },
  {
    name: 'a truncated body',
    fault: { kind: 'truncated', times: 2 },
    errors: unreachable(''),
    attempts: 2,
  },
  {
    name: 'a connection reset',
    fault: { kind: 'reset', times: 2 },
    errors: unreachable('ECONNRESET$'),
    attempts: 2,
  },
  {
    name: 'a connection closed without an answer',
    fault: { kind: 'drop', times: 2 },
    errors: unreachable(''),
    attempts: 2,
  },
  {
    name: 'a hang (the timeout fires)',
    fault: { kind: 'hang', times: 2 },
    errors: {
      token: new RegExp(`^timeout: ${host} did not answer within 1 s$`),
      discovery: new RegExp(`^timeout: ${host} did not answer within 1 s$`),
    },
    attempts: 1,
    timeout: 1,
  },
  {
    name: 'an unresolvable host',
    server: 'unresolvable',
    errors: {
      discovery: /^connection_failed: cannot resolve sts\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/,
    },
  },
  {
    name: "a connection that never completes (the timeout fires, not undici's 10 s)",
    server: 'blackhole',
    errors: { discovery: new RegExp(`^timeout: ${host} did not answer within 1 s$`) },
    timeout: 1,
  },
  {
    name: 'TLS: a certificate from an unknown CA',
    untrusted: true,
    errors: {
      discovery: new RegExp(
        `^tls_error: the TLS certificate of ${host} is not trusted \\(\\w+\\); pass --ca-file`,
      ),
    },
  },
  {
    name: 'TLS: an expired certificate',
    server: 'expired',
    errors: {
      discovery: new RegExp(
        `^tls_error: the TLS certificate of ${host} has expired \\(CERT_HAS_EXPIRED\\)`,
      ),
    },
  },
  {
    name: 'TLS: a certificate for another host name',
    server: 'wrong-host',
    errors: {
      discovery: new RegExp(`^tls_error: the TLS certificate of ${host} is not for that host name`),
    },
  },
]

/** Every (case, stage) pair the matrix runs. */
const faultRuns = cases.flatMap((c) =>
  Object.entries(c.errors).map(([stage, error]) => ({ ...c, stage: stage as Stage, error })),
)

describe('fault matrix: client-token against a misbehaving identity provider', () => {
  let sts: Sts
  const broken = new Map<BrokenCertificate, Sts>()
  let pkiDir: string
  let blackhole: Blackhole

  before(async () => {
    pkiDir = await tempDir()
    blackhole = await startBlackhole()
    sts = await startSts({ pkiDir })
    for (const kind of ['expired', 'wrong-host'] as const) {
      broken.set(kind, await startSts({ pkiDir, serverCertificate: kind }))
    }
  })
  after(async () => {
    blackhole.close()
    await Promise.all([sts, ...broken.values()].map((s) => s.close()))
  })

  function authorityOf(c: FaultCase): string {
    if (c.server === 'unresolvable') {
      return `https://sts.invalid/${sts.tenantId}`
    }
    if (c.server === 'blackhole') {
      return `https://127.0.0.1:${blackhole.port}/${sts.tenantId}`
    }
    return c.server === undefined ? sts.authority() : (broken.get(c.server)?.authority() ?? '')
  }

  const base = (cacheFile: string) => [
    'client-token',
    '-c',
    sts.defaults.confidentialClientId,
    '--cache-file',
    cacheFile,
  ]
  const env = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  for (const c of faultRuns) {
    test(`${c.name}, at ${c.stage}: exit 1, one line, no token, the cache unchanged`, async () => {
      const home = await tempDir()
      const cacheFile = join(home, 'c', 'tokens.json')
      const warm = await run(
        home,
        [
          ...base(cacheFile),
          '-a',
          sts.authority(),
          '--ca-file',
          sts.caFile,
          '--scope',
          'api://warm/.default',
        ],
        { env: env() },
      )
      assert.equal(warm.exitCode, 0, warm.stderr)
      const before = await readFile(cacheFile)
      if (c.stage === 'discovery') {
        await rm(join(home, 'c', 'msal-ts.http-cache.json'))
      }
      const path = c.stage === 'token' ? '/oauth2/v2.0/token' : '/.well-known/openid-configuration'
      if (c.fault !== undefined) {
        sts.inject({ ...c.fault, match: { path } })
      }
      sts.clearLog()

      const result = await run(
        home,
        [
          ...base(cacheFile),
          '-a',
          authorityOf(c),
          ...(c.untrusted === true ? [] : ['--ca-file', sts.caFile]),
          ...(c.server === 'unresolvable' ? ['--no-instance-discovery'] : []),
          ...(c.timeout === undefined ? [] : ['--timeout', String(c.timeout)]),
          '--scope',
          'api://faulty/.default',
        ],
        { env: env() },
      )
      sts.clearFaults()

      assert.equal(result.exitCode, 1, result.stderr)
      assert.equal(result.stdout, '', 'no token on stdout')
      assertNoStack(result.stderr)
      const [first = '', ...rest] = result.stderr.replace(/\n$/, '').split('\n')
      assert.match(first, /^msal-ts: /)
      assert.match(first.replace(/^msal-ts: /, ''), c.error)
      assert.ok(
        rest.length === 0 || (rest.length === 1 && /^ {2}status \d+; /.test(rest[0] ?? '')),
        `one error line, and at most the provider's details:\n${result.stderr}`,
      )
      assert.deepEqual(await readFile(cacheFile), before, 'the token cache file is byte-identical')
      if (c.attempts !== undefined) {
        assert.equal(sts.requests({ path }).length, c.attempts, 'attempts at the faulty endpoint')
      }
    })
  }
})

interface VerifyFault {
  name: string
  /** Injected into the STS at the discovery document or the key set. */
  at?: 'discovery' | 'keys'
  fault?: Omit<Fault, 'match'>
  /** Whose token: the STS's, one from an STS with a broken certificate, or one naming a blackhole. */
  issuer?: BrokenCertificate | 'blackhole'
  untrusted?: boolean
  timeout?: number
  error: RegExp
  attempts?: number
}

const keySetAt = String.raw`https://${host}/[\w-]+/discovery/v2\.0/keys`
const verifyFaults: VerifyFault[] = [
  ...[500, 503].map((status) => ({
    name: `discovery: HTTP ${status}`,
    at: 'discovery' as const,
    fault: { status, times: 2 },
    error: new RegExp(
      `^server_error: cannot fetch the keys of the issuer: the OpenID configuration failed: the server answered ${status}$`,
    ),
    attempts: 2,
  })),
  ...[500, 503].map((status) => ({
    name: `key set: HTTP ${status}`,
    at: 'keys' as const,
    fault: { status, times: 2 },
    error: new RegExp(
      `^invalid_response: the provider's key set at ${keySetAt} answered ${status} without keys$`,
    ),
    attempts: 2,
  })),
  {
    name: 'key set: invalid JSON',
    at: 'keys',
    fault: { kind: 'garbage' },
    error: new RegExp(
      `^invalid_response: the provider's key set at ${keySetAt} answered 200 without keys$`,
    ),
    attempts: 1,
  },
  {
    name: 'discovery: a hang (the timeout fires)',
    at: 'discovery',
    fault: { kind: 'hang', times: 2 },
    timeout: 1,
    error: new RegExp(
      `^timeout: cannot fetch the keys of the issuer: ${host} did not answer within 1 s$`,
    ),
    attempts: 1,
  },
  {
    name: 'key set: a hang (the timeout fires)',
    at: 'keys',
    fault: { kind: 'hang', times: 2 },
    timeout: 1,
    error: new RegExp(`^timeout: ${host} did not answer within 1 s$`),
    attempts: 1,
  },
  {
    name: "an issuer whose connection never completes (the timeout fires, not undici's 10 s)",
    issuer: 'blackhole',
    timeout: 1,
    error: new RegExp(
      `^timeout: cannot fetch the keys of the issuer: ${host} did not answer within 1 s$`,
    ),
  },
  {
    name: 'TLS: a certificate from an unknown CA',
    untrusted: true,
    error: new RegExp(
      `^tls_error: cannot fetch the keys of the issuer: the TLS certificate of ${host} is not trusted`,
    ),
  },
  {
    name: 'TLS: an expired certificate',
    issuer: 'expired',
    error: new RegExp(
      `^tls_error: cannot fetch the keys of the issuer: the TLS certificate of ${host} has expired`,
    ),
  },
  {
    name: 'TLS: a certificate for another host name',
    issuer: 'wrong-host',
    error: new RegExp(
      `^tls_error: cannot fetch the keys of the issuer: the TLS certificate of ${host} is not for that host name`,
    ),
  },
]

describe('fault matrix: decode --verify against a misbehaving issuer', () => {
  let sts: Sts
  const broken = new Map<BrokenCertificate, Sts>()
  let blackhole: Blackhole
  const tokens = new Map<string, string>()

  /** An app token from `server` (its certificate not checked: only its `iss` matters here). */
  async function appToken(server: Sts): Promise<string> {
    const result = await run(
      await tempDir(),
      [
        'client-token',
        '-c',
        server.defaults.confidentialClientId,
        '-a',
        server.authority(),
        '--insecure',
        '--resource',
        'api://verify',
      ],
      { env: { AZURE_CLIENT_SECRET: server.defaults.clientSecret } },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    return result.stdout.trim()
  }

  before(async () => {
    const pkiDir = await tempDir()
    blackhole = await startBlackhole()
    sts = await startSts({ pkiDir })
    tokens.set('sts', await appToken(sts))
    for (const kind of ['expired', 'wrong-host'] as const) {
      const server = await startSts({ pkiDir, serverCertificate: kind })
      broken.set(kind, server)
      tokens.set(kind, await appToken(server))
    }
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    tokens.set(
      'blackhole',
      `${part({ alg: 'RS256', kid: 'k' })}.${part({ iss: `https://127.0.0.1:${blackhole.port}/t/v2.0` })}.c2ln`,
    )
  })
  after(async () => {
    blackhole.close()
    await Promise.all([sts, ...broken.values()].map((s) => s.close()))
  })

  for (const c of verifyFaults) {
    test(`${c.name}: exit 1, one line, nothing on stdout`, async () => {
      const path = c.at === 'keys' ? '/discovery/v2.0/keys' : '/.well-known/openid-configuration'
      if (c.fault !== undefined) {
        sts.inject({ ...c.fault, match: { path } })
      }
      sts.clearLog()
      const result = await run(
        await tempDir(),
        [
          'decode',
          '--verify',
          ...(c.untrusted === true ? [] : ['--ca-file', sts.caFile]),
          ...(c.timeout === undefined ? [] : ['--timeout', String(c.timeout)]),
        ],
        { input: tokens.get(c.issuer ?? 'sts') ?? '' },
      )
      sts.clearFaults()
      assert.equal(result.exitCode, 1, result.stderr)
      assert.equal(result.stdout, '')
      assertNoStack(result.stderr)
      assert.match(result.stderr, /^msal-ts: [^\n]+\n$/)
      assert.match(result.stderr.replace(/^msal-ts: /, '').trimEnd(), c.error)
      if (c.attempts !== undefined) {
        assert.equal(sts.requests({ path }).length, c.attempts, 'attempts at the faulty endpoint')
      }
    })
  }
})
