/**
 * Malformed input for every command: bad URLs, plain http on a public host, bad JSON, bad PEM, a
 * wrong passphrase, unreadable files, negative or non-numeric numbers, conflicting options. Each
 * is exit 2, one line naming the option (or variable) at fault, no stack, nothing on stdout, and
 * nothing sent to the identity provider's token endpoint.
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { makeClientCertificate } from '../fixtures/pki.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

interface BadInput {
  /** Arguments after the command name and the common options. */
  args: string[]
  /** What the message must name: the option or the environment variable. */
  names: string
  env?: Record<string, string>
  input?: string
}

type Command =
  | 'login'
  | 'token'
  | 'accounts'
  | 'logout'
  | 'auth-url'
  | 'redeem'
  | 'migrate-rt'
  | 'client-token'
  | 'serve'
  | 'git-credential'

const graph = 'https://graph.microsoft.com/.default'
const devOpsRequest = 'protocol=https\nhost=dev.azure.com\n\n'

describe('bad input: exit 2 and a message naming what is wrong', () => {
  let sts: Sts
  let dir: string
  let cert: ReturnType<typeof makeClientCertificate>
  let home: string
  const files = {
    badPem: '',
    notPem: '',
    aDirectory: '',
    missing: '',
    flow: '',
  }

  before(async () => {
    sts = await startSts()
    dir = await tempDir()
    home = await tempDir()
    cert = makeClientCertificate(dir, 'app', { passphrase: 'right' })
    files.badPem = join(dir, 'bad.pem')
    await writeFile(
      files.badPem,
      '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n',
    )
    files.notPem = join(dir, 'not.pem')
    await writeFile(files.notPem, 'hello\n')
    files.aDirectory = join(dir, 'a-directory')
    await mkdir(files.aDirectory)
    files.missing = join(dir, 'missing')
    files.flow = join(dir, 'flow.json')
    await writeFile(files.flow, '{"state": 5}')
    // Signed in, so `token` cases meet the cached fast path as well as the full one.
    const login = await run(
      home,
      [
        'login',
        ...common(),
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        'User.Read',
      ],
      { input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
  })
  after(() => sts.close())

  function common(command?: Command): string[] {
    // The cache-only commands make no TLS connection: they refuse --ca-file without a Redis cache.
    const tls = command === 'accounts' || command === 'logout' ? [] : ['--ca-file', sts.caFile]
    return ['-c', sts.defaults.publicClientId, '-a', sts.authority(), ...tls]
  }

  const secret = { AZURE_CLIENT_SECRET: 'a secret' }
  /** An authority with regional endpoints; never reached, as the cases fail before any request. */
  const entra = ['-a', 'https://login.microsoftonline.com/tid']

  /** What each command needs to run at all, so that a common option is the only thing wrong. */
  const valid = (): Record<Command, Omit<BadInput, 'names'>> => ({
    'client-token': { args: ['--scope', graph], env: secret },
    token: { args: ['--scope', 'User.Read'] },
    login: {
      args: ['--username', sts.defaults.username, '--password-stdin'],
      input: sts.defaults.password,
    },
    accounts: { args: [] },
    logout: { args: ['--account', 'nobody@example.com', '--yes'] },
    'auth-url': { args: ['--scope', 'User.Read'] },
    redeem: { args: ['--code', 'abc', '--scope', 'User.Read'] },
    'migrate-rt': { args: ['--scope', 'User.Read', '--refresh-token-stdin'], input: 'rt' },
    // The signed-in account's tokens: a case that failed to fail would serve until the timeout.
    serve: { args: [] },
    'git-credential': { args: ['get'], input: devOpsRequest },
  })

  /**
   * Network options are checked when a request is made: commands that make none (or answer from
   * the cache, as `token` does here) have no use for them.
   */
  const online = new Set<Command>([
    'client-token',
    'login',
    'redeem',
    'migrate-rt',
    'serve',
    'git-credential',
  ])

  /** Options every command takes, tried on each command (the network ones where they apply). */
  const commonCases = (command: Command): BadInput[] => [
    { args: ['-a', 'not a url'], names: 'authority' },
    { args: ['-a', 'http://login.example.com/tenant'], names: 'authority' },
    { args: ['-a', 'ftp://login.example.com/tenant'], names: 'authority' },
    { args: ['--oidc-authority', 'http://idp.example.com'], names: 'authority' },
    { args: ['--timeout', '-1'], names: '--timeout' },
    { args: ['--timeout', 'soon'], names: '--timeout' },
    { args: [], env: { MSAL_TS_TIMEOUT: '0' }, names: 'MSAL_TS_TIMEOUT' },
    // Node's timers wait at most 2^31-1 ms; a longer timeout failed every request as internal_error.
    { args: ['--timeout', '5000000'], names: '--timeout' },
    { args: [], env: { MSAL_TS_TIMEOUT: '99999999' }, names: 'MSAL_TS_TIMEOUT' },
    // Number() read these as 16 and 5.
    { args: ['--timeout', '0x10'], names: '--timeout' },
    { args: ['--timeout', ' 5'], names: '--timeout' },
    { args: ['--timeout', '1e3'], names: '--timeout' },
    { args: [], env: { MSAL_TS_TIMEOUT: '0x10' }, names: 'MSAL_TS_TIMEOUT' },
    { args: ['--log-level', 'loud'], names: '--log-level' },
    // Empty, these fell back silently to the default cache or authority.
    { args: ['--cache-file='], names: '--cache-file' },
    { args: ['--authority='], names: '--authority' },
    { args: ['--profile='], names: '--profile' },
    { args: [], env: { MSAL_TS_LOG_LEVEL: 'loud' }, names: 'MSAL_TS_LOG_LEVEL' },
    { args: ['--unknown-option'], names: '--unknown-option' },
    { args: ['--cache-url', 'http://127.0.0.1:6379'], names: '--cache-url' },
    { args: [], env: { MSAL_TS_CACHE_URL: 'redis://127.0.0.1/zero' }, names: 'MSAL_TS_CACHE_URL' },
    // auth-url only builds a URL: it never opens the token cache.
    ...(command === 'auth-url'
      ? []
      : [{ args: ['--cache-file', files.aDirectory], names: 'cache file' }]),
    // A CA file of msal-ts's own is read by every command that may send a request, up front.
    ...(command === 'accounts' || command === 'logout'
      ? []
      : [
          { args: ['--ca-file', files.missing], names: 'CA file' },
          { args: ['--ca-file', files.notPem], names: 'CA file' },
          { args: ['--insecure'], names: '--insecure' },
        ]),
    ...(!online.has(command)
      ? []
      : [
          { args: ['--proxy', 'not a url'], names: '--proxy' },
          { args: ['--proxy', 'file:///etc/passwd'], names: '--proxy' },
          { args: ['--proxy', 'javascript:alert(1)'], names: '--proxy' },
          // undici sent TLS straight to the SOCKS port: the run failed with a reset connection.
          { args: ['--proxy', 'socks5://127.0.0.1:11080'], names: '--proxy' },
          { args: ['--proxy', 'socks://127.0.0.1:11080'], names: '--proxy' },
          // undici takes an origin only, and decodes user and password: these failed as connection_failed.
          { args: ['--proxy', 'http://u:p@127.0.0.1:48888/%zz'], names: '--proxy' },
          { args: ['--proxy', 'http://127.0.0.1:48888/?q=1'], names: '--proxy' },
          { args: ['--proxy', 'http://127.0.0.1:48888#top'], names: '--proxy' },
          { args: ['--proxy', 'http://u:%zz@127.0.0.1:48888'], names: '--proxy' },
          // Sent as headers: a line break would forge one; Node refused it as connection_failed.
          { args: ['--app-name', 'a\r\nX-Inj: 1'], names: '--app-name' },
          { args: ['--app-version', '1\n2'], names: '--app-version' },
          { args: ['--app-name', 'app \u{1f600}'], names: '--app-name' },
          // Node sent these as UTF-8, undici (through a proxy) as Latin-1.
          { args: ['--app-name', 'café'], names: '--app-name' },
          { args: ['--app-version', '1.0-ß'], names: '--app-version' },
          // Blank, these were passed on to the engine, which refused them by its own option names.
          { args: ['--capability='], names: '--capability' },
          { args: ['--exclude-scope', ' '], names: '--exclude-scope' },
          // Two names, or a control character: refused by the flag, not the engine's option.
          { args: ['--capability', 'CP1 '], names: '--capability' },
          { args: ['--exclude-scope', 'a\u001bb'], names: '--exclude-scope' },
        ]),
  ]

  /** Each command's own options. */
  const ownCases = (): Record<Command, BadInput[]> => ({
    'client-token': [
      {
        args: ['--scope', graph],
        env: { AZURE_CLIENT_SECRET: 'a\tb' },
        names: 'AZURE_CLIENT_SECRET',
      },
      {
        args: ['--scope', graph, '--client-secret-stdin'],
        input: '  ',
        names: '--client-secret-stdin',
      },
      {
        args: ['--scope', graph, '--resource', 'https://graph.microsoft.com'],
        names: '--resource',
      },
      { args: [], names: '--scope' },
      { args: ['--scope', graph, '--client-claims', '{oops'], names: '--client-claims' },
      { args: ['--scope', graph, '--client-claims', '[1]'], names: '--client-claims' },
      { args: ['--scope', graph, '--certificate', files.badPem], names: 'certificate' },
      { args: ['--scope', graph, '--certificate', files.missing], names: 'certificate' },
      { args: ['--scope', graph, '--certificate', files.aDirectory], names: 'certificate' },
      {
        args: [
          '--scope',
          graph,
          '--certificate',
          cert.encryptedPemFile ?? '',
          '--certificate-password-stdin',
        ],
        input: 'wrong',
        names: 'password',
      },
      {
        args: ['--scope', graph, '--certificate', cert.certFile, '--private-key', files.badPem],
        names: 'private key',
      },
      {
        args: ['--scope', graph, '--certificate', cert.pemFile, '--thumbprint', 'not-hex'],
        names: 'thumbprint',
      },
      { args: ['--scope', graph, '--client-assertion-file', files.missing], names: 'assertion' },
      // The region prefixes the token host: text that is no DNS label would move the secret elsewhere.
      {
        args: ['--scope', graph],
        env: { MSAL_TS_INSTANCE_DISCOVERY_URL: 'http://evil.example/common/discovery/instance' },
        names: 'MSAL_TS_INSTANCE_DISCOVERY_URL',
      },
      { args: ['--scope', graph, ...entra, '--region', 'evil.example#'], names: '--region' },
      {
        args: ['--scope', graph, ...entra],
        env: { MSAL_TS_REGION: 'evil.example/' },
        names: 'MSAL_TS_REGION',
      },
      {
        args: ['--scope', graph, '--client-secret', 's', '--certificate', cert.pemFile],
        names: 'credential',
      },
      { args: ['--scope', graph, '--client-secret-file', files.missing], names: 'secret' },
      { args: ['--scope', graph, '-o', 'yaml'], names: '--output' },
      { args: ['--scope', graph, '--thumbprint', 'abcd'], names: '--thumbprint' },
    ],
    token: [
      // Refused even when the cache could answer without a request.
      { args: ['--scope', 'User.Read', '--app-name', 'a\r\nX-Inj: 1'], names: '--app-name' },
      { args: ['--scope', 'User.Read', '--app-version', '\u0007'], names: '--app-version' },
      { args: ['--scope', 'User.Read', '--min-validity', '-5'], names: '--min-validity' },
      { args: ['--scope', 'User.Read', '--min-validity', 'long'], names: '--min-validity' },
      { args: ['--scope', 'User.Read', '--claims-challenge', '{bad'], names: 'claims' },
      {
        args: ['--scope', 'User.Read', '--resource', 'https://graph.microsoft.com'],
        names: '--resource',
      },
      { args: ['--scope', 'User.Read', '-o', 'yaml'], names: '--output' },
      // Read as no --account: the only account, or MSAL_TS_ACCOUNT's, answered instead.
      { args: ['--scope', 'User.Read', '--account='], names: '--account' },
    ],
    login: [
      { args: ['--redirect-port', '-1'], names: '--redirect-port' },
      { args: ['--redirect-port', '70000'], names: '--redirect-port' },
      { args: ['--redirect-port', 'http'], names: '--redirect-port' },
      { args: ['--wait', '-1'], names: '--wait' },
      { args: ['--wait', 'forever'], names: '--wait' },
      { args: ['--max-age', '-1'], names: '--max-age' },
      { args: ['--max-age', 'old'], names: '--max-age' },
      { args: ['--claims-challenge', '{bad'], names: 'claims' },
      { args: ['--response-mode', 'carrier-pigeon'], names: '--response-mode' },
      { args: ['--device-code', '--username', 'a@b.c'], names: '--device-code' },
      { args: ['--scope', 'offline_access'], names: 'offline_access' },
    ],
    accounts: [{ args: ['-o', 'yaml'], names: '--output' }],
    logout: [{ args: ['--account', 'a@b.c', '--all'], names: '--all' }],
    'auth-url': [
      { args: ['--scope', 'User.Read', '--redirect-uri', 'not a url'], names: 'redirect URI' },
      { args: ['--scope', 'User.Read', '--max-age', '-3'], names: '--max-age' },
      { args: ['--scope', 'User.Read', '--max-age', 'x'], names: '--max-age' },
      { args: ['--scope', 'User.Read', '--claims-challenge', '{bad'], names: 'claims' },
      {
        args: [
          '--scope',
          'User.Read',
          '--flow-file',
          join(dir, 'fragment-flow.json'),
          '--response-mode',
          'fragment',
        ],
        names: '--response-mode',
      },
      {
        args: ['--scope', 'User.Read', '--flow-file', join(files.missing, 'flow.json')],
        names: 'flow',
      },
    ],
    redeem: [
      { args: ['--code', 'abc'], names: '--scope' },
      { args: ['--flow-file', files.missing, '--response', 'code=x&state=y'], names: 'flow' },
      { args: ['--flow-file', files.flow, '--response', 'code=x&state=y'], names: 'flow' },
      {
        args: ['--code', 'abc', '--scope', 'User.Read', '--redirect-uri', 'not a url'],
        names: 'redirect URI',
      },
      {
        args: ['--code', 'abc', '--scope', 'User.Read', '--claims-challenge', '{bad'],
        names: 'claims',
      },
      {
        args: ['--code', 'abc', '--flow-file', files.flow, '--response', 'code=x'],
        names: '--flow-file',
      },
    ],
    'migrate-rt': [
      { args: ['--scope', 'User.Read'], names: 'refresh token' },
      {
        args: ['--scope', 'User.Read', '--refresh-token-file', files.missing],
        names: 'refresh token',
      },
      {
        args: ['--scope', 'User.Read', '--refresh-token-file', files.aDirectory],
        names: 'refresh token',
      },
      { args: ['--refresh-token-stdin'], input: 'rt', names: '--scope' },
    ],
    serve: [
      { args: ['--port', '0'], names: '--port' },
      { args: ['--port', '65536'], names: '--port' },
      { args: ['--port', '80x'], names: '--port' },
      { args: ['--allow-resource', ''], names: '--allow-resource' },
      { args: ['--allow-resource', 'https://a.example\r\nX: 1'], names: '--allow-resource' },
      { args: ['-o', 'raw'], names: '--output' },
      { args: ['--account='], names: '--account' },
      { args: ['--account', 'a@b.c', '--client-secret-stdin'], input: 's', names: '--account' },
      { args: ['--managed-identity', '--client-secret-stdin'], input: 's', names: 'credential' },
      { args: ['--managed-identity', '--account', 'a@b.c'], names: '--account' },
      { args: ['--object-id', 'abc'], names: '--object-id' },
      { args: ['--region', 'westus'], names: '--region' },
      {
        args: ['--exclude-scope', 'offline_access', '--client-secret-stdin'],
        input: 's',
        names: '--exclude-scope',
      },
      { args: ['--certificate', files.badPem], names: 'certificate' },
      { args: ['--client-assertion-file', files.missing], names: 'assertion' },
      // Certificate options without a certificate would be ignored: refused, as git-credential does.
      { args: ['--thumbprint', 'abcd'], names: '--thumbprint' },
      { args: ['--send-x5c', '--client-secret-stdin'], input: 's', names: '--send-x5c' },
      { args: ['--thumbprint', 'abcd'], env: { AZURE_CLIENT_SECRET: 's' }, names: '--thumbprint' },
      { args: ['--managed-identity', '--send-x5c'], names: '--send-x5c' },
    ],
    'git-credential': [
      { args: [], input: devOpsRequest, names: 'operation' },
      { args: ['get'], input: 'protocol=https\nhost=dev.azure.com\rx=y\n\n', names: 'request' },
      { args: ['get'], input: 'protocol\n\n', names: 'key=value' },
      { args: ['get'], input: `path=${'p'.repeat(70_000)}\n\n`, names: 'request' },
      { args: ['get', '--host', 'https://tfs.contoso.com'], input: devOpsRequest, names: '--host' },
      {
        args: ['get', '--client-secret-stdin'],
        input: devOpsRequest,
        names: '--client-secret-stdin',
      },
      { args: ['get', '--object-id', 'x'], input: devOpsRequest, names: '--object-id' },
      { args: ['get', '--send-x5c'], input: devOpsRequest, names: '--send-x5c' },
      {
        args: ['get', '--account', 'a@b.c'],
        input: devOpsRequest,
        env: { AZURE_CLIENT_SECRET: 's' },
        names: '--account',
      },
      // Usage is checked for every host and operation, not only when a token is asked for.
      {
        args: ['get', '--account', 'a@b.c', '--client-secret', 's'],
        input: 'protocol=https\nhost=github.com\n\n',
        names: '--account',
      },
      { args: ['store', '--thumbprint', 'ab'], input: devOpsRequest, names: '--thumbprint' },
      { args: ['get', '--region', 'westus'], input: devOpsRequest, names: '--region' },
    ],
  })

  test('every command refuses malformed values of its options', async () => {
    const own = ownCases()
    const base = valid()
    const cases = (Object.keys(own) as Command[]).flatMap((command) => [
      ...commonCases(command).map((c) => ({
        command,
        ...c,
        args: [...base[command].args, ...c.args],
        env: { ...base[command].env, ...c.env },
        input: c.input ?? base[command].input,
      })),
      ...own[command].map((c) => ({ command, ...c, env: { ...base[command].env, ...c.env } })),
    ])
    const before = sts.tokenRequests().length
    const failures: string[] = []
    // A few at a time: the machine is shared, and each case is a process.
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(
        cases.slice(i, i + 8).map(async (c) => {
          const result = await run(home, [c.command, ...common(c.command), ...c.args], {
            env: {
              ...(c.command === 'client-token' || c.command === 'redeem' ? secret : {}),
              ...c.env,
            },
            ...(c.input === undefined ? {} : { input: c.input }),
          })
          const what = `${c.command} ${c.args.join(' ')} ${JSON.stringify(c.env ?? {})}`
          try {
            assert.equal(result.exitCode, 2, 'exit code')
            assert.equal(result.stdout, '', 'stdout')
            assertNoStack(result.stderr)
            // cli.md: one line, and for usage errors an optional second line with a suggestion
            // (a nearer spelling, or the commands an option acts in).
            assert.match(
              result.stderr,
              /^msal-ts: [\w-]+: .+\n(\((Did you mean .+\?|\S+ acts only in .+)\)\n)?$/,
              'one line',
            )
            assert.ok(
              result.stderr.toLowerCase().includes(c.names.toLowerCase()),
              `names ${c.names}`,
            )
          } catch (error) {
            failures.push(
              `${what}\n  ${(error as Error).message.split('\n')[0]}\n  ${result.exitCode} ${result.stderr.trim()}`,
            )
          }
        }),
      )
    }
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${cases.length} cases:\n${failures.join('\n')}`,
    )
    assert.equal(sts.tokenRequests().length, before, 'no bad input reached the token endpoint')
  })

  test('decode refuses malformed input and options: exit 2, one line, nothing on stdout', async () => {
    const token = [{ alg: 'none' }, { iss: 'https://login.example.com/t' }]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .concat('')
      .join('.')
    const cases: BadInput[] = [
      { args: [], input: 'not a token', names: 'JWT' },
      { args: [], input: '', names: 'no token' },
      { args: [], input: 'x'.repeat(300_000), names: 'stdin' },
      { args: ['-o', 'yaml'], input: token, names: '--output' },
      { args: ['--timeout', '5'], input: token, names: '--verify' },
      { args: ['--verify', '--timeout', '-1'], input: token, names: '--timeout' },
      { args: ['--verify', '--proxy', 'not a url'], input: token, names: '--proxy' },
      { args: ['--verify', '--proxy', 'file:///x'], input: token, names: '--proxy' },
      { args: ['--verify', '--ca-file', files.missing], input: token, names: 'CA file' },
      {
        args: ['--verify', '--ca-file', files.notPem, '--insecure'],
        input: token,
        names: '--insecure',
      },
      { args: ['--unknown-option'], input: token, names: '--unknown-option' },
      {
        args: ['--verify'],
        input: token,
        env: { MSAL_TS_LOG_LEVEL: 'loud' },
        names: 'MSAL_TS_LOG_LEVEL',
      },
    ]
    for (const c of cases) {
      const result = await run(home, ['decode', ...c.args], {
        input: c.input ?? '',
        ...(c.env ? { env: c.env } : {}),
      })
      const what = `decode ${c.args.join(' ')}`
      assert.equal(result.exitCode, 2, `${what}: ${result.stderr}`)
      assert.equal(result.stdout, '', what)
      assertNoStack(result.stderr)
      assert.match(result.stderr, /^msal-ts: [\w-]+: .+\n$/, what)
      assert.ok(
        result.stderr.toLowerCase().includes(c.names.toLowerCase()),
        `${what}: names ${c.names}`,
      )
    }
  })

  test('a scope without --scope, or an authority without https://, gets the fix suggested', async () => {
    const before = sts.tokenRequests().length
    const positional = await run(home, ['token', ...common('token'), 'User.Read'])
    assert.equal(positional.exitCode, 2)
    assert.equal(positional.stdout, '')
    assert.equal(
      positional.stderr,
      'msal-ts: unexpected_argument: token takes options only, not "User.Read"\n(Did you mean --scope User.Read?)\n',
    )
    const stray = await run(home, ['accounts', 'everyone'])
    assert.equal(stray.exitCode, 2)
    assert.equal(
      stray.stderr,
      'msal-ts: unexpected_argument: accounts takes options only, not "everyone"\n',
    )
    const schemeless = 'login.microsoftonline.com/contoso'
    const expected = (source: string) =>
      `msal-ts: invalid_authority: the authority "${schemeless}" is not a URL: it has no https:// in front${source}\n(Did you mean https://${schemeless}?)\n`
    for (const [args, env, source] of [
      [['-a', schemeless], {}, ''],
      [[], { MSAL_TS_AUTHORITY: schemeless }, ' (from MSAL_TS_AUTHORITY)'],
    ] as const) {
      const result = await run(
        home,
        ['token', '-c', sts.defaults.publicClientId, ...args, '--scope', 'User.Read'],
        { env },
      )
      assert.equal(result.exitCode, 2, JSON.stringify(env))
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, expected(source))
    }
    const config = await run(home, ['config', 'set', 'authority', schemeless], {
      env: { MSAL_TS_CONFIG_DIR: join(await tempDir(), 'config') },
    })
    assert.equal(config.exitCode, 2)
    assert.match(
      config.stderr,
      new RegExp(
        `^msal-ts: invalid_config_value: .+\\n\\(Did you mean https://${schemeless}\\?\\)\\n$`,
      ),
    )
    assert.equal(sts.tokenRequests().length, before)
  })

  test('the suggested fix for a stray word is one that works: --resource for a resource, --scope for a scope', async () => {
    const resource = 'https://graph.microsoft.com'
    const cases: { command: Command; word: string; fix: string }[] = [
      { command: 'client-token', word: resource, fix: `--resource ${resource}` },
      { command: 'client-token', word: `${resource}/`, fix: `--resource ${resource}/` },
      { command: 'client-token', word: graph, fix: `--scope ${graph}` },
      { command: 'token', word: resource, fix: `--resource ${resource}` },
      { command: 'token', word: `${resource}/`, fix: `--resource ${resource}/` },
      { command: 'token', word: graph, fix: `--scope ${graph}` },
      { command: 'token', word: `${resource}/User.Read`, fix: `--scope ${resource}/User.Read` },
      { command: 'token', word: 'User.Read', fix: '--scope User.Read' },
    ]
    const before = sts.tokenRequests().length
    for (const { command, word, fix } of cases) {
      const result = await run(home, [command, ...common(command), word], { env: secret })
      assert.equal(result.exitCode, 2, `${command} ${word}`)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr,
        `msal-ts: unexpected_argument: ${command} takes options only, not "${word}"\n(Did you mean ${fix}?)\n`,
      )
    }
    assert.equal(sts.tokenRequests().length, before)
  })

  test('https:// is suggested only for a host and path without a scheme, never glued to a mistyped one', async () => {
    const suggested = [
      ['//login.microsoftonline.com/contoso', 'https://login.microsoftonline.com/contoso'],
      ['localhost:8443/t', 'https://localhost:8443/t'],
      ['login.microsoftonline.com', 'https://login.microsoftonline.com'],
    ]
    for (const [authority, fix] of suggested) {
      const result = await run(home, [
        'token',
        ...common('token'),
        '-a',
        authority ?? '',
        '--scope',
        'User.Read',
      ])
      assert.equal(result.exitCode, 2, authority)
      assert.match(result.stderr, /^msal-ts: invalid_authority: .+\n/, authority)
      assert.ok(result.stderr.endsWith(`\n(Did you mean ${fix}?)\n`), result.stderr)
    }
    for (const authority of ['HTTPS//h/x', 'h//x', 'a b', '-/x', 'https:h']) {
      const result = await run(home, [
        'token',
        ...common('token'),
        '-a',
        authority,
        '--scope',
        'User.Read',
      ])
      assert.equal(result.exitCode, 2, authority)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: invalid_authority: [^\n]+\n$/, authority)
    }
  })
  test('a refused proxy URL is shown without its password, which CI logs would keep', async () => {
    for (const proxy of ['http://user:s3cret@127.0.0.1:3128/path', 'ftp://user:s3cret@127.0.0.1']) {
      const result = await run(home, [
        'client-token',
        ...common('client-token'),
        '--scope',
        'https://graph.microsoft.com/.default',
        '--proxy',
        proxy,
      ])
      assert.equal(result.exitCode, 2, result.stderr)
      assert.match(result.stderr, /^msal-ts: invalid_proxy: --proxy .+user:\*\*\*@127\.0\.0\.1/)
      assert.ok(!result.stderr.includes('s3cret'), result.stderr)
    }
  })
})
