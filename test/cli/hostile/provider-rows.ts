/** Rows of classes 1-9: what a hostile identity provider answers on the wire. */
import assert from 'node:assert/strict'
import type { Fault, StreamedBody } from '../../fixtures/sts/index.js'
import {
  browserLoginOidc,
  cachedEntry,
  clientToken,
  deviceCodeLogin,
  forgedLine,
  migrateRt,
  oidcClientToken,
  passwordLogin,
  receivedValues,
  userToken,
  type Ctx,
  type Row,
} from './row.js'

/** Any clean error line: a snake_case code and a description. */
export const anyError = /^[a-z][a-z0-9_]*: \S.*$/
const tokenPath = '/oauth2/v2.0/token'
const discoveryPath = '/v2.0/.well-known/openid-configuration'

const patchToken = (patch: Record<string, unknown>, extra: Partial<Fault> = {}): Fault[] => [
  { match: { path: tokenPath }, patch, ...extra },
]
const patchDiscovery = (patch: Record<string, unknown>): Fault[] => [
  { match: { path: discoveryPath }, patch },
]

function assertNoTokenRequest(ctx: Ctx): void {
  assert.deepEqual(
    ctx.sts.tokenRequests().map((entry) => entry.grantType),
    [],
    'no request reached the token endpoint',
  )
}

function assertNeverSent(ctx: Ctx, secret: string): void {
  assert.ok(
    !receivedValues(ctx.sts).some((value) => value.includes(secret)),
    'the credential never left',
  )
}

// 1: credentials only to https://, or http:// on loopback.
const plainHttp: Row[] = [
  ['/oauth2/v2.0/token', 'http://sts.invalid/oauth2/v2.0/token'],
  ['(port 80 spelled out)', 'http://sts.invalid:80/t/oauth2/v2.0/token'],
  ['(a loopback-looking name)', 'http://127.0.0.1.sts.invalid/oauth2/v2.0/token'],
  ['(userinfo trick)', 'http://127.0.0.1@sts.invalid/oauth2/v2.0/token'],
].map(([what, endpoint = '']) => ({
  name: `discovery names an http:// token endpoint on another host ${what}: the secret is not sent`,
  class: '1 credentials over plain HTTP',
  coldDiscovery: true,
  faults: patchDiscovery({ token_endpoint: endpoint }),
  run: (ctx) => clientToken(ctx),
  exitCode: 1,
  error: /^[a-z_]+: .*http:\/\//,
  check: (ctx, result) => {
    assert.doesNotMatch(
      result.stderr,
      /connection_failed|cannot resolve/,
      'refused before connecting',
    )
    assertNoTokenRequest(ctx)
    assertNeverSent(ctx, ctx.sts.defaults.clientSecret)
  },
}))
plainHttp.push(
  {
    name: 'an http:// token endpoint on another host: the password is not sent',
    class: '1 credentials over plain HTTP',
    warm: 'none',
    faults: patchDiscovery({ token_endpoint: 'http://sts.invalid/oauth2/v2.0/token' }),
    run: (ctx) => passwordLogin(ctx),
    exitCode: 1,
    error: /^[a-z_]+: .*http:\/\//,
    check: (ctx, result) => {
      assert.doesNotMatch(result.stderr, /connection_failed|cannot resolve/)
      assertNeverSent(ctx, ctx.sts.defaults.password)
    },
  },
  {
    name: 'an http:// token endpoint on another host: the refresh token is not sent (token --force-refresh)',
    class: '1 credentials over plain HTTP',
    warm: 'user',
    coldDiscovery: true,
    faults: patchDiscovery({ token_endpoint: 'http://sts.invalid/oauth2/v2.0/token' }),
    run: (ctx) => userToken(ctx, '--force-refresh'),
    exitCode: 1,
    error: /^[a-z_]+: .*http:\/\//,
    check: (ctx, result) => {
      assert.doesNotMatch(result.stderr, /connection_failed|cannot resolve/)
      assertNoTokenRequest(ctx)
    },
  },
  {
    name: 'an http:// token endpoint on another host with --oidc-authority: the secret is not sent',
    class: '1 credentials over plain HTTP',
    coldDiscovery: true,
    faults: patchDiscovery({ token_endpoint: 'http://sts.invalid/token' }),
    run: (ctx) => oidcClientToken(ctx),
    exitCode: 1,
    error: /^[a-z_]+: .*http:\/\//,
    check: (ctx, result) => {
      assert.doesNotMatch(result.stderr, /connection_failed|cannot resolve/)
      assertNoTokenRequest(ctx)
    },
  },
)

// 2: the discovered issuer must match the --oidc-authority.
const foreignIssuer: Row[] = [
  ['another host', 'https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0'],
  ['http:// on the same host and port', 'http://HOST/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0'],
  ['the same host as a userinfo prefix', 'https://HOST@evil.example/v2.0'],
  ['a Microsoft host as a prefix', 'https://login.microsoftonline.com.evil.example/t/v2.0'],
  ['a CIAM look-alike', 'https://contoso.ciamlogin.com.evil.example/t/v2.0'],
  ['a CIAM host of another tenant', 'https://fabrikam.ciamlogin.com/fabrikam.onmicrosoft.com/v2.0'],
].map(([what, issuer = '']) => ({
  name: `discovered issuer on ${what}: refused naming both issuers, nothing sent after`,
  class: '2 foreign issuer with --oidc-authority',
  // The warm-up run keeps the genuine document in the HTTP cache; the hostile one must be fetched.
  coldDiscovery: true,
  setup: (ctx: Ctx) => {
    ctx.sts.inject({
      match: { path: discoveryPath },
      patch: { issuer: issuer.replace('HOST', ctx.sts.host) },
    })
  },
  run: (ctx) => oidcClientToken(ctx),
  exitCode: 1,
  error: anyError,
  check: (ctx, result) => {
    const line = result.stderr.split('\n')[0] ?? ''
    assert.ok(
      line.includes(issuer.replace('HOST', ctx.sts.host)),
      `names the discovered issuer: ${line}`,
    )
    assert.ok(line.includes(`${ctx.sts.authority()}/v2.0`), `names the authority: ${line}`)
    assertNoTokenRequest(ctx)
  },
}))
foreignIssuer.push({
  name: 'discovered issuer that is not a string: refused, nothing sent after',
  class: '2 foreign issuer with --oidc-authority',
  coldDiscovery: true,
  faults: patchDiscovery({ issuer: ['https://a.example', 'https://b.example'] }),
  run: (ctx) => oidcClientToken(ctx),
  exitCode: 1,
  error: anyError,
  check: (ctx) => assertNoTokenRequest(ctx),
})

// 3: a sign-in URL is https:// (or loopback http://), never shown or opened otherwise.
const unsafeSignIn: Row[] = [
  'javascript:alert(document.cookie)//',
  'file:///etc/passwd',
  'http://sts.invalid/oauth2/v2.0/authorize',
  'data:text/html,<script>alert(1)</script>',
].map((endpoint) => ({
  name: `authorization_endpoint ${endpoint.split(':')[0] ?? ''}: (${endpoint.slice(0, 24)}…) never shown, exit 1`,
  class: '3 unsafe sign-in URL',
  warm: 'none',
  faults: patchDiscovery({ authorization_endpoint: endpoint }),
  run: (ctx) => browserLoginOidc(ctx),
  exitCode: 1,
  error: anyError,
  check: (_ctx, result) => {
    assert.ok(!result.stderr.includes(endpoint), 'the URL is not shown')
    assert.doesNotMatch(result.stderr, /^(javascript|file|data|http):/m)
  },
}))

// 4: CR/LF in token_type or access_token; `-o header` never prints two lines.
const headerInjection: Row[] = [
  { token_type: 'Bearer\r\nX-Injected: 1' },
  { token_type: 'Bearer\nX-Injected: 1' },
  { access_token: 'eyJhbGciOiJub25lIn0.e30.\r\nX-Injected: 1' },
  { access_token: 'abc\u0000def' },
  { access_token: 'abc\u001b[2Jdef' },
].map((patch) => ({
  name: `${JSON.stringify(patch)} with -o header: refused, not cached`,
  class: '4 header injection',
  faults: patchToken(patch),
  run: (ctx) => clientToken(ctx, '-o', 'header'),
  exitCode: 1,
  error: anyError,
}))
headerInjection.push({
  name: 'access_token with CR/LF on refresh (token -o header): refused, not cached',
  class: '4 header injection',
  warm: 'user',
  faults: patchToken({ access_token: 'a.b.c\r\nSet-Cookie: x=1' }),
  run: (ctx) => userToken(ctx, '--force-refresh', '-o', 'header'),
  exitCode: 1,
  error: anyError,
})

// 5: a token type other than the one asked for.
const tokenType: Row[] = [
  ...['mac', 'pop', 'Basic', 'Bearer2', ''].map((type): Row => ({
    name: `client-token answered token_type ${JSON.stringify(type)}: refused, not cached`,
    class: '5 token type other than Bearer',
    faults: patchToken({ token_type: type }),
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
  })),
  {
    name: 'refresh answered token_type "mac" (token --force-refresh): refused, not cached',
    class: '5 token type other than Bearer',
    warm: 'user',
    faults: patchToken({ token_type: 'mac' }),
    run: (ctx) => userToken(ctx, '--force-refresh'),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'password sign-in answered token_type "pop": refused, not cached',
    class: '5 token type other than Bearer',
    warm: 'user',
    faults: patchToken({ token_type: 'pop' }),
    run: (ctx) => passwordLogin(ctx),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'migrate-rt answered token_type "mac": refused, not cached',
    class: '5 token type other than Bearer',
    warm: 'user',
    setup: async (ctx) => {
      ctx.sts.inject({ match: { path: tokenPath }, patch: { token_type: 'mac' } })
      refreshTokens.set(ctx.home, String((await cachedEntry(ctx, 'RefreshToken')).secret))
    },
    run: (ctx) => migrateRt(ctx, refreshTokens.get(ctx.home) ?? ''),
    exitCode: 1,
    error: anyError,
  },
]
const refreshTokens = new Map<string, string>()

// 6: unbounded bodies, on every endpoint msal-ts reads. 64 KiB of JSON whitespace per chunk.
const spaces = ' '.repeat(64 * 1024)
const huge: StreamedBody = { chunk: spaces, count: 4096 } // 256 MiB
const endless = { chunk: spaces }
const dripping = { chunk: ' ', everyMs: 200 }
const bodies: [string, StreamedBody, string[]][] = [
  ['a 256 MiB body', huge, []],
  ['an endless body', endless, ['--timeout', '10']],
  ['a body dripping a byte every 200 ms', dripping, ['--timeout', '2']],
]
const unbounded: Row[] = bodies.flatMap(([what, stream, timeout]): Row[] => [
  {
    name: `${what} from the token endpoint: exit 1, memory bounded`,
    class: '6 unbounded bodies',
    faults: [{ match: { path: tokenPath }, stream }],
    run: (ctx) => clientToken(ctx, ...timeout),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
  {
    name: `${what} as an error answer (400) from the token endpoint: exit 1, memory bounded`,
    class: '6 unbounded bodies',
    faults: [{ match: { path: tokenPath }, stream, status: 400 }],
    run: (ctx) => clientToken(ctx, ...timeout),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
  {
    name: `${what} from discovery: exit 1, memory bounded`,
    class: '6 unbounded bodies',
    coldDiscovery: true,
    faults: [{ match: { path: discoveryPath }, stream }],
    run: (ctx) => clientToken(ctx, ...timeout),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
  {
    name: `${what} from the device code endpoint: exit 1, memory bounded`,
    class: '6 unbounded bodies',
    faults: [{ match: { path: '/oauth2/v2.0/devicecode' }, stream }],
    run: (ctx) => deviceCodeLogin(ctx, ...timeout),
    exitCode: 1,
    error: anyError,
    maxRssMiB: 160,
  },
])
unbounded.push({
  name: 'a 256 MiB JWKS while signing in with --oidc-authority: exit 1, memory bounded',
  class: '6 unbounded bodies',
  warm: 'none',
  faults: [{ match: { path: '/discovery/v2.0/keys' }, stream: huge, times: Infinity }],
  run: (ctx) => ({
    ...passwordLogin(ctx),
    args: passwordLogin(ctx).args.map((arg) =>
      arg === '-a' ? '--oidc-authority' : arg === ctx.sts.authority() ? `${arg}/v2.0` : arg,
    ),
  }),
  exitCode: 1,
  error: anyError,
  maxRssMiB: 160,
})

// 7: every field checked for type and shape; expiries integral.
const badFields: [string, Record<string, unknown>][] = [
  ['expires_in 1e21', { expires_in: 1e21 }],
  ['expires_in "soon"', { expires_in: 'soon' }],
  ['expires_in -5', { expires_in: -5 }],
  ['access_token a number', { access_token: 42 }],
  ['access_token an object', { access_token: { token: 'x' } }],
  ['access_token an array', { access_token: ['x'] }],
  ['access_token empty', { access_token: '' }],
]
const fieldTypes: Row[] = badFields.map(([what, patch]) => ({
  name: `client-token answered ${what}: exit 1, nothing cached`,
  class: '7 unchecked field types',
  faults: patchToken(patch),
  run: (ctx) => clientToken(ctx),
  exitCode: 1,
  error: anyError,
}))
fieldTypes.push(
  {
    name: 'password sign-in answered id_token as a number: exit 1, nothing cached',
    class: '7 unchecked field types',
    warm: 'user',
    faults: patchToken({ id_token: 42 }),
    run: (ctx) => passwordLogin(ctx),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'password sign-in answered refresh_token as an object: exit 1, nothing cached',
    class: '7 unchecked field types',
    warm: 'user',
    faults: patchToken({ refresh_token: { secret: 'x' } }),
    run: (ctx) => passwordLogin(ctx),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'refresh answered expires_in "1e21": exit 1, nothing cached',
    class: '7 unchecked field types',
    warm: 'user',
    faults: patchToken({ expires_in: '1e21' }),
    run: (ctx) => userToken(ctx, '--force-refresh'),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'an error answer with error_codes "7000215" (a string): exit 1, one line',
    class: '7 unchecked field types',
    faults: [
      {
        match: { path: tokenPath },
        status: 401,
        body: { error: 'invalid_client', error_description: 'bad secret', error_codes: '7000215' },
      },
    ],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: /^invalid_client: bad secret$/,
  },
  {
    name: 'an error answer with a numeric error_description: exit 1, one line',
    class: '7 unchecked field types',
    faults: [
      {
        match: { path: tokenPath },
        status: 400,
        body: { error: 'invalid_request', error_description: 42, error_codes: [90014] },
      },
    ],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: /^invalid_request\b/,
  },
  {
    name: 'an error answer whose error is an object: exit 1, one line',
    class: '7 unchecked field types',
    faults: [{ match: { path: tokenPath }, status: 400, body: { error: { code: 'x' } } }],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
  },
  {
    name: 'a fractional expires_in (3599.5): the cached expiry is integral epoch seconds',
    class: '7 unchecked field types',
    faults: patchToken({ expires_in: 3599.5, ext_expires_in: 3599.5 }),
    run: (ctx) => clientToken(ctx),
    exitCode: 0,
    cache: 'any',
    check: async (ctx) => {
      const cache = JSON.parse(
        await import('node:fs/promises').then((fs) => fs.readFile(ctx.cacheFile, 'utf8')),
      ) as Record<string, Record<string, Record<string, unknown>>>
      for (const entry of Object.values(cache['AccessToken'] ?? {})) {
        for (const field of ['expires_on', 'extended_expires_on', 'cached_at']) {
          assert.match(
            String(entry[field]),
            /^\d+$/,
            `${field} is integral: ${String(entry[field])}`,
          )
        }
      }
    },
  },
  {
    name: 'discovery with a token_endpoint that is a number: exit 1',
    class: '7 unchecked field types',
    coldDiscovery: true,
    faults: patchDiscovery({ token_endpoint: 42 }),
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: anyError,
  },
)

// 8: text from outside printed with its control characters neutralised.
const noForgedLine = (_ctx: Ctx, result: { stderr: string; stdout: string }) => {
  assert.doesNotMatch(result.stderr, /^msal-ts: forged/m, 'no forged line')
}
const terminal: Row[] = [
  {
    name: 'an error_description with ESC/CR/LF: one line, no control byte',
    class: '8 terminal injection',
    faults: [
      {
        match: { path: tokenPath },
        status: 400,
        body: { error: 'invalid_request', error_description: forgedLine, error_codes: [900144] },
      },
    ],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: /^invalid_request: /,
    check: noForgedLine,
  },
  {
    name: 'an error code with ESC/CR/LF: one line, no control byte',
    class: '8 terminal injection',
    faults: [
      {
        match: { path: tokenPath },
        status: 400,
        body: { error: forgedLine, error_description: 'x' },
      },
    ],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    check: noForgedLine,
  },
  {
    name: 'a trace id and correlation id with ESC/CR/LF: no control byte, no forged line',
    class: '8 terminal injection',
    faults: [
      {
        match: { path: tokenPath },
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: 'x',
          error_codes: [900144],
          trace_id: forgedLine,
          correlation_id: forgedLine,
        },
      },
    ],
    run: (ctx) => clientToken(ctx),
    exitCode: 1,
    error: /^invalid_request: x$/,
    check: noForgedLine,
  },
  {
    name: 'a device-code message with ESC/CR/LF: printed neutralised on one line',
    class: '8 terminal injection',
    warm: 'user',
    setup: (ctx) => {
      ctx.sts.settings.devicePollScript = ['authorization_declined']
      ctx.sts.inject({ match: { path: '/devicecode' }, patch: { message: forgedLine } })
    },
    run: (ctx) => deviceCodeLogin(ctx),
    exitCode: 1,
    leadingLines: 1,
    error: /^authorization_declined: /,
    check: noForgedLine,
  },
  {
    name: 'a username with ESC/CR/LF in the ID token: "Signed in as" neutralised',
    class: '8 terminal injection',
    warm: 'none',
    setup: (ctx) => {
      ctx.sts.settings.idTokenClaims = { preferred_username: forgedLine }
    },
    run: (ctx) => passwordLogin(ctx),
    exitCode: 0,
    cache: 'any',
    check: (ctx, result) => {
      noForgedLine(ctx, result)
      assert.equal(
        result.stderr.split('\n').length,
        2,
        `one line: ${JSON.stringify(result.stderr)}`,
      )
    },
  },
]

// 9: never faster than one poll a second; a missing or nonsense interval means 5 s.
const polling: Row[] = (
  [
    ['0.01', 0.01, 1000],
    ['0', 0, 1000],
    ['-1', -1, 5000],
    ['missing', undefined, 5000],
    ['"junk"', 'junk', 5000],
    ['an object', { s: 1 }, 5000],
  ] as const
).map(([what, interval, gapMs]) => ({
  name: `device code interval ${what}: polls at least ${gapMs / 1000} s apart`,
  class: '9 polling storm',
  warm: 'user' as const,
  setup: (ctx: Ctx) => {
    ctx.sts.settings.devicePollScript = ['authorization_pending', 'authorization_declined']
    ctx.sts.inject({ match: { path: '/devicecode' }, patch: { interval } })
  },
  run: (ctx: Ctx) => deviceCodeLogin(ctx),
  exitCode: 1,
  leadingLines: 1,
  error: /^authorization_declined: /,
  check: (ctx: Ctx) => {
    const [first, second] = ctx.sts.tokenRequests().map((entry) => entry.time)
    assert.ok(first !== undefined && second !== undefined, 'two polls')
    assert.ok(second - first >= gapMs, `polls ${second - first} ms apart`)
  },
}))

export const providerRows: Row[] = [
  ...plainHttp,
  ...foreignIssuer,
  ...unsafeSignIn,
  ...headerInjection,
  ...tokenType,
  ...unbounded,
  ...fieldTypes,
  ...terminal,
  ...polling,
]
