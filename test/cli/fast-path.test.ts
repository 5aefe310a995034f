import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { run, runTracingModules, tempDir } from './harness.js'

const scope = 'https://graph.microsoft.com/User.Read'

describe('the cache-hit path of msal-ts token', () => {
  let sts: Sts
  let home: string
  let base: string[]

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    base = sts.cliArgs(sts.defaults.publicClientId)
    const login = await run(
      home,
      ['login', ...base, '--username', sts.defaults.username, '--password-stdin', '--scope', scope],
      {
        input: sts.defaults.password,
      },
    )
    assert.equal(login.exitCode, 0, login.stderr)
  })
  after(() => sts.close())

  async function loadedModules(args: string[]): Promise<{ stdout: string; modules: string[] }> {
    const result = await runTracingModules(home, args)
    assert.equal(result.exitCode, 0, result.stderr)
    return result
  }

  test('loads no parser, network, crypto or prompt code, and makes no request', async () => {
    sts.clearLog()
    const { modules } = await loadedModules(['token', ...base, '--scope', scope])
    assert.ok(modules.includes('../dist/token-hit.cjs'), modules.join(' '))
    for (const heavy of [
      '../dist/msal-ts.cjs',
      'commander',
      'undici',
      'jose',
      '@inquirer/prompts',
      'conf',
      'proper-lockfile',
      'ioredis',
      'node:http',
      'node:https',
      'node:crypto',
      'node:tls',
      'node:net',
    ]) {
      assert.ok(!modules.includes(heavy), `${heavy} was loaded: ${modules.join(' ')}`)
    }
    assert.deepEqual(sts.log, [])
  })

  test('an empty value is refused by the full CLI, not read as the option unset, with a token cached', async () => {
    for (const [arg, name] of [
      ['--min-validity=', '--min-validity'],
      ['--cache-file=', '--cache-file'],
      ['--cache-dir=', '--cache-dir'],
      ['--ca-file=', '--ca-file'],
      ['--authority=', '--authority'],
      ['--account=', '--account'],
      ['--profile=', '--profile'],
    ]) {
      const result = await runTracingModules(home, ['token', ...base, '--scope', scope, arg ?? ''])
      assert.equal(result.exitCode, 2, `${arg}: ${result.stderr}`)
      assert.equal(result.stdout, '', arg)
      assert.match(result.stderr, /^msal-ts: [\w-]+: [^\n]+\n$/, arg)
      assert.ok(result.stderr.includes(`${name} takes`), result.stderr)
      assert.ok(result.modules.includes('../dist/msal-ts.cjs'), `${arg}: the full CLI did not run`)
    }
  })

  test('--exclude-scope is answered by the full CLI with a token cached: openid refused, others served', async () => {
    const refused = await runTracingModules(home, [
      'token',
      ...base,
      '--scope',
      scope,
      '--exclude-scope',
      'openid',
    ])
    assert.equal(refused.exitCode, 2, refused.stderr)
    assert.equal(refused.stdout, '')
    assert.equal(refused.stderr, 'msal-ts: reserved_scope: openid cannot be excluded\n')
    sts.clearLog()
    const served = await runTracingModules(home, [
      'token',
      ...base,
      '--scope',
      scope,
      '--exclude-scope',
      'offline_access',
      '-o',
      'json',
    ])
    assert.equal(served.exitCode, 0, served.stderr)
    assert.equal((JSON.parse(served.stdout) as { token_source: string }).token_source, 'cache')
    assert.ok(served.modules.includes('../dist/msal-ts.cjs'), 'the fast path answered')
    assert.equal(sts.tokenRequests().length, 0)
  })

  test('a reserved scope given with --scope is refused with a token cached, as the token command refuses it', async () => {
    for (const reserved of ['openid', 'profile', 'offline_access', 'OpenID', 'OFFLINE_ACCESS']) {
      for (const scopes of [[reserved], [scope, reserved]]) {
        const args = ['token', ...base, ...scopes.flatMap((s) => ['--scope', s])]
        const refused = await run(home, args)
        assert.equal(refused.exitCode, 2, refused.stderr)
        assert.equal(refused.stdout, '')
        assert.match(refused.stderr, new RegExp(`^msal-ts: reserved_scope: ${reserved} is added`))
      }
    }
  })

  test('-v on a cached token says where it came from, the full CLI answering', async () => {
    sts.clearLog()
    const result = await run(home, ['token', ...base, '--scope', scope, '-v'])
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]*\n$/)
    assert.match(
      result.stderr,
      /^msal-ts: debug: cache hit: access token for [^\n]*User\.Read[^\n]* \(expires in \d+ s\)\n$/,
    )
    assert.equal(sts.log.length, 0)
  })

  test('a tenant named by its domain is served from the cache through its cached discovery answer', async () => {
    const domainHome = await tempDir()
    const domainArgs = [
      '-c',
      sts.defaults.publicClientId,
      '-a',
      sts.authority(sts.tenantDomain),
      '--ca-file',
      sts.caFile,
    ]
    const login = await run(
      domainHome,
      [
        'login',
        ...domainArgs,
        '--username',
        sts.defaults.username,
        '--password-stdin',
        '--scope',
        scope,
      ],
      { input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    sts.clearLog()
    const hit = await runTracingModules(domainHome, [
      'token',
      ...domainArgs,
      '--scope',
      scope,
      '-o',
      'json',
    ])
    assert.equal(hit.exitCode, 0, hit.stderr)
    assert.equal((JSON.parse(hit.stdout) as { token_source: string }).token_source, 'cache')
    assert.ok(!hit.modules.includes('../dist/msal-ts.cjs'), 'the full CLI ran')
    assert.deepEqual(sts.log, [])
  })

  test('the module trace sees dependencies bundled under dist/vendor/', async () => {
    // --verbose is not served by the fast path: the full CLI runs, with commander.
    const { modules } = await loadedModules(['token', ...base, '--scope', scope, '--verbose'])
    assert.ok(modules.includes('../dist/msal-ts.cjs'), modules.join(' '))
    assert.ok(modules.includes('./vendor/commander.cjs'), modules.join(' '))
    assert.ok(modules.includes('commander'), modules.join(' '))
  })

  test('answers exactly as the full command does', async () => {
    const fast = await run(home, ['token', ...base, '--scope', scope, '-o', 'json'])
    // --verbose is not served by the fast path: this run goes through the full command.
    const full = await run(home, ['token', ...base, '--scope', scope, '-o', 'json', '--verbose'])
    const strip = (text: string) => {
      const doc = JSON.parse(text) as Record<string, unknown>
      delete doc['expires_in']
      return doc
    }
    assert.deepEqual(strip(fast.stdout), strip(full.stdout))
    for (const format of ['raw', 'header', 'env', 'kubectl']) {
      const a = await run(home, ['token', ...base, `--scope=${scope}`, '--output', format])
      const b = await run(home, [
        'token',
        ...base,
        '--scope',
        scope,
        '-o',
        format,
        '--log-level',
        'debug',
      ])
      assert.equal(a.stdout, b.stdout)
    }
  })

  test('whatever it cannot answer goes the full way', async () => {
    const missing = await run(home, [
      'token',
      ...base,
      '--scope',
      scope,
      '--account',
      'nobody@contoso.com',
    ])
    assert.equal(missing.exitCode, 3)
    assert.match(missing.stderr, /^msal-ts: no_account: nobody@contoso.com is not signed in/)
    const bad = await run(home, ['token', ...base, '--scope', scope, '-o', 'yaml'])
    assert.equal(bad.exitCode, 2)
    assert.match(
      bad.stderr,
      /^msal-ts: usage: option '-o, --output <format>' argument 'yaml' is invalid/,
    )
  })
})
