import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { execa } from 'execa'
import { bin, cliEnv, run, tempDir } from './harness.js'

const graph = 'https://graph.microsoft.com/.default'
const userScope = 'https://graph.microsoft.com/User.Read'

/** A home whose config lives in its own directory, as MSAL_TS_CONFIG_DIR points it. */
async function configHome(): Promise<{ home: string; env: Record<string, string> }> {
  const home = await tempDir()
  return { home, env: { MSAL_TS_CONFIG_DIR: join(home, 'config') } }
}

describe('msal-ts config', () => {
  test('set, get, unset and list keep profiles in a 0600 file in a 0700 directory', async () => {
    const { home, env } = await configHome()
    const config = (...args: string[]) => run(home, ['config', ...args], { env })
    assert.equal((await config('set', 'client-id', 'app-one')).exitCode, 0)
    assert.equal((await config('set', '--profile', 'gov', 'cloud', 'usgov')).exitCode, 0)
    assert.equal((await config('set', 'cache-dir', 'relative/dir')).exitCode, 0)
    const file = join(home, 'config', 'config.json')
    assert.equal((await config('path')).stdout, `${file}\n`)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await stat(join(home, 'config'))).mode & 0o777, 0o700)

    assert.equal((await config('get', 'client-id')).stdout, 'app-one\n')
    // A named profile is laid over the default one.
    assert.equal((await config('get', '--profile', 'gov', 'client-id')).stdout, 'app-one\n')
    assert.equal((await config('get', 'cloud', '--profile', 'gov')).stdout, 'usgov\n')
    const unset = await config('get', 'cloud')
    assert.equal(unset.exitCode, 1)
    assert.equal(unset.stdout, '')
    assert.equal(unset.stderr, 'msal-ts: not_set: cloud is not set\n')

    const listed = JSON.parse((await config('list', '-o', 'json')).stdout) as Record<
      string,
      Record<string, string>
    >
    // Paths are kept absolute, so a profile means the same from any directory.
    assert.equal(listed['default']?.['cache-dir']?.startsWith('/'), true)
    assert.deepEqual(listed['gov'], { cloud: 'usgov' })
    assert.match((await config('list')).stdout, /^\[default\]\nclient-id=app-one\n/)

    assert.equal((await config('unset', 'cloud', '--profile', 'gov')).exitCode, 0)
    const after = JSON.parse(await readFile(file, 'utf8')) as { profiles: Record<string, unknown> }
    assert.deepEqual(Object.keys(after.profiles), ['default'])
  })

  test('the config dir follows XDG_CONFIG_HOME when MSAL_TS_CONFIG_DIR is not set', async () => {
    const home = await tempDir()
    const env = { XDG_CONFIG_HOME: join(home, 'xdg') }
    assert.equal((await run(home, ['config', 'set', 'tenant', 'contoso.com'], { env })).exitCode, 0)
    const file = await readFile(join(home, 'xdg', 'msal-ts', 'config.json'), 'utf8')
    assert.deepEqual(JSON.parse(file), { profiles: { default: { tenant: 'contoso.com' } } })
  })

  test('an empty or relative HOME or XDG_CONFIG_HOME never puts the config under the working directory', async () => {
    const home = await tempDir()
    // A cloned repository that ships a config naming its own client (and could name an authority).
    const repo = await tempDir()
    await mkdir(join(repo, '.config', 'msal-ts'), { recursive: true })
    await writeFile(
      join(repo, '.config', 'msal-ts', 'config.json'),
      JSON.stringify({ profiles: { default: { 'client-id': 'planted' } } }),
      { mode: 0o600 },
    )
    for (const env of [{ HOME: '' }, { HOME: '.' }, { XDG_CONFIG_HOME: '.config' }]) {
      const inRepo = (args: string[]) =>
        execa(bin, args, { cwd: repo, env: cliEnv(home, env), extendEnv: false, reject: false })
      const path = await inRepo(['config', 'path'])
      assert.equal(path.exitCode, 0, path.stderr)
      assert.ok(isAbsolute(path.stdout.trim()), path.stdout)
      assert.ok(!path.stdout.startsWith(repo), path.stdout)
      const got = await inRepo(['config', 'get', 'client-id'])
      assert.notEqual(got.stdout, 'planted\n', JSON.stringify(env))
    }
  })

  test('a hand-edited file: a byte-order mark is read past, a misspelt key refused, profiles listed briefly', async () => {
    const { home, env } = await configHome()
    await mkdir(join(home, 'config'), { mode: 0o700 })
    const file = join(home, 'config', 'config.json')
    const write = (config: object, prefix = '') =>
      writeFile(file, prefix + JSON.stringify(config), { mode: 0o600 })
    await write({ profiles: { default: { tenant: 'contoso.com' } } }, '\uFEFF')
    assert.equal((await run(home, ['config', 'get', 'tenant'], { env })).stdout, 'contoso.com\n')
    await write({ profiles: { default: { 'time-out': '5' } } })
    const misspelt = await run(home, ['accounts', '-c', 'app', '-o', 'json'], { env })
    assert.equal(misspelt.exitCode, 2)
    assert.match(
      misspelt.stderr,
      /^msal-ts: invalid_config: the config file .+ is not valid: "time-out" in profile "default" is no config key \(client-id, /,
    )
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`p${i}`, {}]))
    await write({ profiles: many })
    const unknown = await run(home, ['accounts', '-c', 'app', '--profile', 'nope'], { env })
    assert.equal(unknown.exitCode, 2)
    assert.match(unknown.stderr, /\(profiles: p0, p1, .*, p9, \.\.\.\); create it/)
    assert.ok(unknown.stderr.length < 300, unknown.stderr)
  })

  test('a hand-edited value is printed by config get without its control characters', async () => {
    const { home, env } = await configHome()
    await mkdir(join(home, 'config'), { mode: 0o700 })
    await writeFile(
      join(home, 'config', 'config.json'),
      JSON.stringify({ profiles: { default: { region: 'w\u001b[2J\nforged' } } }),
      { mode: 0o600 },
    )
    const got = await run(home, ['config', 'get', 'region'], { env })
    assert.equal(got.exitCode, 0, got.stderr)
    assert.equal(got.stdout, 'w\\u001b[2J\\u000aforged\n')
  })

  test('an empty MSAL_TS_CLIENT_ID is unset; a tenant that is no single name is refused', async () => {
    const { home, env } = await configHome()
    const hidden = await run(home, ['token', '--scope', 'User.Read'], {
      env: { ...env, MSAL_TS_CLIENT_ID: '', AZURE_CLIENT_ID: 'app1' },
    })
    assert.equal(hidden.exitCode, 3, hidden.stderr)
    // Slashes around a tenant were always taken off: still one name.
    const slashed = await run(
      home,
      ['token', '-c', 'app', '--scope', 'User.Read', '-t', '/contoso.com/'],
      { env },
    )
    assert.equal(slashed.exitCode, 3, slashed.stderr)
    for (const [args, tenantEnv] of [
      [['-t', 'a/b?c'], {}],
      [[], { AZURE_TENANT_ID: 'contoso.com/../other' }],
      [['--cloud', 'usgov'], { AZURE_TENANT_ID: 'a?b' }],
    ] as const) {
      const result = await run(home, ['token', '-c', 'app', '--scope', 'User.Read', ...args], {
        env: { ...env, ...tenantEnv },
      })
      assert.equal(result.exitCode, 2, result.stderr)
      assert.match(
        result.stderr,
        /^msal-ts: invalid_tenant: the tenant ".+" is not a tenant id or domain/,
      )
    }
  })

  test('runs setting keys at once each keep theirs; a linked config.json is written where it leads', async () => {
    const { home, env } = await configHome()
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        run(home, ['config', 'set', '--profile', `p${i}`, 'tenant', `t${i}`], { env }),
      ),
    )
    assert.deepEqual(
      results.map((r) => r.exitCode),
      results.map(() => 0),
    )
    const listed = (await run(home, ['config', 'list', '-o', 'json'], { env })).stdout
    assert.equal(Object.keys(JSON.parse(listed) as object).length, 12)

    // Dotfiles kept elsewhere under another name, linked in as config.json.
    const linked = await tempDir()
    await mkdir(join(linked, 'cfg'))
    await mkdir(join(linked, 'dot'))
    const target = join(linked, 'dot', 'msal-ts.json')
    await writeFile(target, JSON.stringify({ profiles: { default: { tenant: 't1' } } }), {
      mode: 0o600,
    })
    await symlink('../dot/msal-ts.json', join(linked, 'cfg', 'config.json'))
    const linkEnv = { MSAL_TS_CONFIG_DIR: join(linked, 'cfg') }
    assert.equal((await run(home, ['config', 'set', 'tenant', 't9'], { env: linkEnv })).exitCode, 0)
    assert.equal((await run(home, ['config', 'get', 'tenant'], { env: linkEnv })).stdout, 't9\n')
    assert.deepEqual(JSON.parse(await readFile(target, 'utf8')), {
      profiles: { default: { tenant: 't9' } },
    })
    assert.deepEqual(await readdir(join(linked, 'dot')), ['msal-ts.json'])
    // A link into a directory that is not there makes nothing there.
    const dangling = join(linked, 'dangling')
    await mkdir(dangling)
    await symlink('../nowhere/msal-ts.json', join(dangling, 'config.json'))
    const refused = await run(home, ['config', 'set', 'tenant', 't9'], {
      env: { MSAL_TS_CONFIG_DIR: dangling },
    })
    assert.equal(refused.exitCode, 2)
    assert.equal(
      refused.stderr,
      `msal-ts: unwritable_config: cannot write the config file ${join(dangling, 'config.json')}: ${join(dangling, 'config.json')} is a symbolic link to ../nowhere/msal-ts.json, which is not there\n`,
    )
    assert.equal(existsSync(join(linked, 'nowhere')), false)
    // So does a config directory that is such a link.
    await symlink(join(linked, 'nowhere', 'cfg'), join(linked, 'cfg-link'))
    const linkedDir = await run(home, ['config', 'set', 'tenant', 't9'], {
      env: { MSAL_TS_CONFIG_DIR: join(linked, 'cfg-link') },
    })
    assert.equal(linkedDir.exitCode, 2)
    assert.match(
      linkedDir.stderr,
      /cfg-link is a symbolic link to .*nowhere\/cfg, which is not there\n$/,
    )
    assert.equal(existsSync(join(linked, 'nowhere')), false)
  })

  test('secrets, unknown keys and bad values are refused with exit 2, and nothing is written', async () => {
    const { home, env } = await configHome()
    for (const [args, message] of [
      [
        ['set', 'client-secret', 'hunter2'],
        /^msal-ts: secret_not_allowed: "client-secret" is a secret/,
      ],
      [['set', 'password', 'hunter2'], /^msal-ts: secret_not_allowed: "password"/],
      [
        ['set', 'colour', 'red'],
        /^msal-ts: unknown_config_key: unknown config key "colour"; known keys: client-id, /,
      ],
      [['get', 'colour'], /^msal-ts: unknown_config_key: unknown config key "colour"/],
      // It named a profile called "".
      [['set', '--profile=', 'tenant', 'x'], /^msal-ts: invalid_option: --profile takes a value/],
      [['set', 'output', 'yaml'], /^msal-ts: invalid_config_value: "yaml" is not a valid output/],
      // It went on the wire as /a/oauth2/..., the rest dropped.
      [
        ['set', 'tenant', 'a/b?c'],
        /^msal-ts: invalid_config_value: "a\/b\?c" is not a valid tenant/,
      ],
      // Printed raw by config get: a forged line, a cleared screen.
      [
        ['set', 'client-id', 'x\nforged=1'],
        /^msal-ts: invalid_config_value: the value for client-id holds a control character \(x\\u000aforged=1\)/,
      ],
      [['set', 'region', 'west\u001b[2J'], /holds a control character \(west\\u001b\[2J\)/],
      [['set', 'timeout', '-1'], /^msal-ts: invalid_config_value: "-1" is not a valid timeout/],
      [['set', 'timeout', '0x10'], /^msal-ts: invalid_config_value: "0x10" is not a valid timeout/],
      [['set', 'timeout', ' 5'], /^msal-ts: invalid_config_value: " 5" is not a valid timeout/],
      // Node's timers wait at most 2^31-1 ms: a longer timeout would fail every request.
      [
        ['set', 'timeout', '5000000'],
        /^msal-ts: invalid_config_value: "5000000" is not a valid timeout: .+ at most 2147483 seconds/,
      ],
      [
        ['set', 'proxy', 'http://127.0.0.1:3128/path'],
        /^msal-ts: invalid_config_value: .+ is not a valid proxy: a proxy takes a URL with no path/,
      ],
      // A profile never holds a secret, and the refusal does not echo it.
      [
        ['set', 'proxy', 'http://user:s3cret@127.0.0.1:3128'],
        /^msal-ts: secret_not_allowed: profiles hold no secrets: give a proxy's password in HTTPS_PROXY or --proxy\n$/,
      ],
      [
        ['set', 'proxy', 'socks5://127.0.0.1:11080'],
        /^msal-ts: invalid_config_value: .+ is not a valid proxy: .*http:\/\/ and https:\/\/ proxies only/,
      ],
      [
        ['set', 'authority', 'ftp://x'],
        /^msal-ts: invalid_config_value: "ftp:\/\/x" is not a valid authority/,
      ],
      [
        ['set', 'log-level', 'loud'],
        /^msal-ts: invalid_config_value: "loud" is not a valid log-level/,
      ],
      [
        ['get', '--profile', 'nope', 'tenant'],
        /^msal-ts: unknown_profile: no profile named "nope"/,
      ],
    ] as const) {
      const result = await run(home, ['config', ...args], { env })
      assert.equal(result.exitCode, 2, args.join(' '))
      assert.match(result.stderr, message)
      assert.equal(result.stderr.split('\n').length, 2, result.stderr)
    }
    await assert.rejects(stat(join(home, 'config', 'config.json')))
  })

  test('a timeout is set in decimal digits, a fraction of a second included', async () => {
    const { home, env } = await configHome()
    assert.equal((await run(home, ['config', 'set', 'timeout', '0.5'], { env })).exitCode, 0)
    assert.equal((await run(home, ['config', 'get', 'timeout'], { env })).stdout, '0.5\n')
  })

  test('a bad timeout, log level or output is refused naming where it was set', async () => {
    const { home, env } = await configHome()
    await run(home, ['config', 'set', 'tenant', 'contoso.com'], { env })
    const file = join(home, 'config', 'config.json')
    // Values `config set` refuses, as a hand edit could leave them.
    await writeFile(
      file,
      JSON.stringify({
        profiles: {
          default: { timeout: '5000000' },
          loud: { 'log-level': 'loud' },
          bogus: { output: 'bogus' },
        },
      }),
    )
    const clientToken = ['client-token', '-c', 'app', '--scope', graph, '--client-secret-stdin']
    const cases: [string[], Record<string, string>, string][] = [
      [
        clientToken,
        {},
        'invalid_timeout: the timeout of profile "default" must be at most 2147483 seconds (about 24 days), not "5000000"',
      ],
      [
        clientToken,
        { MSAL_TS_TIMEOUT: '0x10' },
        'invalid_timeout: MSAL_TS_TIMEOUT must be a number of seconds in decimal digits, such as 30 or 0.5, not "0x10"',
      ],
      [
        [...clientToken, '--timeout', '-1'],
        {},
        'invalid_timeout: --timeout must be a number of seconds in decimal digits, such as 30 or 0.5, not "-1"',
      ],
      [
        [...clientToken, '--timeout', '1', '--profile', 'loud'],
        {},
        'invalid_log_level: the log-level of profile "loud" must be error, warn, info or debug, not "loud"',
      ],
      [
        [...clientToken, '--timeout', '1'],
        { MSAL_TS_LOG_LEVEL: 'loud' },
        'invalid_log_level: MSAL_TS_LOG_LEVEL must be error, warn, info or debug, not "loud"',
      ],
      [
        ['token', '-c', 'app', '--scope', graph, '--timeout', '1', '--profile', 'bogus'],
        {},
        'invalid_config: the output of profile "bogus" must be raw, json, header, env, kubectl, not "bogus"',
      ],
      [
        [...clientToken, '--timeout', '1'],
        { MSAL_TS_PROFILE: 'bogus' },
        'invalid_config: the output of profile "bogus" must be raw, json, header, env, kubectl, not "bogus"',
      ],
    ]
    for (const [args, extraEnv, message] of cases) {
      const result = await run(home, args, { env: { ...env, ...extraEnv }, input: 's' })
      assert.equal(result.exitCode, 2, args.join(' '))
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, `msal-ts: ${message}\n`, args.join(' '))
    }
    // Where the profile's output would not apply (an -o given, a command printing no token), it
    // is not read: no one is signed in, which is what these say.
    for (const args of [
      ['token', '-c', 'app', '--scope', graph, '--profile', 'bogus', '-o', 'json'],
      ['logout', '-c', 'app', '--all', '--profile', 'bogus'],
      ['accounts', '-c', 'app', '--profile', 'bogus', '-o', 'json'],
    ]) {
      const result = await run(home, args, { env: { ...env, MSAL_TS_TIMEOUT: '5' } })
      assert.notEqual(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.doesNotMatch(result.stderr, /invalid_config/)
    }
    // The file can still be read and mended with config itself.
    const got = await run(home, ['config', 'get', '--profile', 'bogus', 'output'], { env })
    assert.equal(got.stdout, 'bogus\n')
    assert.equal(
      (await run(home, ['config', 'unset', '--profile', 'bogus', 'output'], { env })).exitCode,
      0,
    )
  })

  test('a bad region, authority, tenant or cloud is named by where it was set', async () => {
    const { home, env } = await configHome()
    const file = join(home, 'config', 'config.json')
    await mkdir(join(home, 'config'), { recursive: true })
    // Values `config set` refuses, as a hand edit could leave them.
    await writeFile(
      file,
      JSON.stringify({
        profiles: {
          default: {},
          far: { region: 'evil.example' },
          slashed: { tenant: 'a/b' },
          ftp: { authority: 'ftp://login.example.com/t' },
          moved: { cloud: 'ftp://login.example.com' },
        },
      }),
    )
    const entra = ['-a', 'https://login.microsoftonline.com/contoso.com']
    const clientToken = ['client-token', '-c', 'app', '--scope', graph, '--client-secret-stdin']
    const region = 'must be a region name (letters, digits and hyphens) or auto, not "evil.example"'
    const tenant = `invalid_tenant: the tenant "a/b" is not a tenant id or domain (letters, digits, '.', '-' and '_')`
    const ftp = 'must use https (http is allowed on loopback hosts only)'
    const cases: [string[], Record<string, string>, string][] = [
      [
        [...clientToken, ...entra, '--profile', 'far'],
        {},
        `invalid_region: the region of profile "far" ${region}`,
      ],
      [
        [...clientToken, ...entra],
        { MSAL_TS_REGION: 'evil.example' },
        `invalid_region: MSAL_TS_REGION ${region}`,
      ],
      [
        [...clientToken, ...entra, '--region', 'evil.example'],
        {},
        `invalid_region: --region ${region}`,
      ],
      [
        ['accounts', '-c', 'app', '--profile', 'slashed'],
        {},
        `${tenant} (from the tenant of profile "slashed")`,
      ],
      [['accounts', '-c', 'app'], { AZURE_TENANT_ID: 'a/b' }, `${tenant} (from AZURE_TENANT_ID)`],
      [['accounts', '-c', 'app', '--tenant', 'a/b'], {}, tenant],
      [
        ['accounts', '-c', 'app', '--profile', 'ftp'],
        {},
        `invalid_authority: the authority "ftp://login.example.com/t" ${ftp} (from the authority of profile "ftp")`,
      ],
      [
        ['accounts', '-c', 'app'],
        { MSAL_TS_AUTHORITY: 'ftp://login.example.com/t' },
        `invalid_authority: the authority "ftp://login.example.com/t" ${ftp} (from MSAL_TS_AUTHORITY)`,
      ],
      [
        ['accounts', '-c', 'app'],
        { MSAL_TS_OIDC_AUTHORITY: 'ftp://login.example.com/t' },
        `invalid_authority: the authority "ftp://login.example.com/t" ${ftp} (from MSAL_TS_OIDC_AUTHORITY)`,
      ],
      [
        ['accounts', '-c', 'app', '--tenant', 'contoso.com'],
        { AZURE_AUTHORITY_HOST: 'ftp://login.example.com' },
        `invalid_authority: the authority "ftp://login.example.com/contoso.com" ${ftp} (from AZURE_AUTHORITY_HOST)`,
      ],
      [
        ['accounts', '-c', 'app', '--profile', 'moved'],
        {},
        `invalid_authority: the authority "ftp://login.example.com/common" ${ftp} (from the cloud of profile "moved")`,
      ],
    ]
    for (const [args, extraEnv, message] of cases) {
      const result = await run(home, args, { env: { ...env, ...extraEnv }, input: 's' })
      assert.equal(result.exitCode, 2, args.join(' '))
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, `msal-ts: ${message}\n`, args.join(' '))
    }
    // A region where none applies (a user token) is a default for other runs, not refused.
    const user = await run(home, ['accounts', '-c', 'app', ...entra, '--profile', 'far'], { env })
    assert.equal(user.exitCode, 0, user.stderr)
    const set = await run(home, ['config', 'set', 'region', 'evil.example'], { env })
    assert.equal(set.exitCode, 2)
    assert.equal(
      set.stderr,
      'msal-ts: invalid_config_value: "evil.example" is not a valid region\n',
    )
    const westUs = await run(home, ['config', 'set', 'region', 'West US'], { env })
    assert.equal(westUs.exitCode, 0, westUs.stderr)
    assert.equal((await run(home, ['config', 'get', 'region'], { env })).stdout, 'westus\n')
  })

  test('a refused proxy from a profile is named as the profile one, not as --proxy', async () => {
    const { home, env } = await configHome()
    await run(home, ['config', 'set', 'tenant', 'contoso.com'], { env })
    const file = join(home, 'config', 'config.json')
    // As a hand edit, or a version that took SOCKS proxies, could have left it.
    await writeFile(
      file,
      JSON.stringify({ profiles: { work: { proxy: 'socks5://127.0.0.1:11080' } } }),
    )
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const jwt = `${part({ alg: 'RS256', kid: 'k' })}.${part({ iss: 'https://127.0.0.1:9/' })}.c2ln`
    for (const [args, input] of [
      [['client-token', '-c', 'app', '--scope', graph, '--client-secret-stdin'], 's'],
      [['decode', '--verify'], jwt],
    ] as const) {
      const result = await run(home, [...args], {
        env: { ...env, MSAL_TS_PROFILE: 'work' },
        input,
      })
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(
        result.stderr,
        /^msal-ts: invalid_proxy: the proxy of profile "work" takes an http:\/\/ or https:\/\/ URL .*, not "socks5:\/\/127\.0\.0\.1:11080"\n$/,
        args[0],
      )
    }
  })

  test('a broken config file is a usage error naming it', async () => {
    const { home, env } = await configHome()
    await run(home, ['config', 'set', 'tenant', 'contoso.com'], { env })
    await writeFile(join(home, 'config', 'config.json'), '{ not json')
    const result = await run(home, ['accounts', '-c', 'app', '-o', 'json'], { env })
    assert.equal(result.exitCode, 2)
    assert.match(
      result.stderr,
      /^msal-ts: invalid_config: the config file .*config\.json is not valid/,
    )
  })

  test('an empty config file (made with touch) holds no profiles, and config set fills it', async () => {
    const { home, env } = await configHome()
    await mkdir(join(home, 'config'), { mode: 0o700 })
    const file = join(home, 'config', 'config.json')
    for (const empty of ['', ' \n']) {
      await writeFile(file, empty, { mode: 0o600 })
      const listed = await run(home, ['config', 'list', '-o', 'json'], { env })
      assert.equal(listed.exitCode, 0, listed.stderr)
      assert.deepEqual(JSON.parse(listed.stdout), {})
      const accounts = await run(home, ['accounts', '-c', 'app', '-o', 'json'], { env })
      assert.equal(accounts.exitCode, 0, accounts.stderr)
      assert.equal(accounts.stdout, '[]\n')
    }
    assert.equal((await run(home, ['config', 'set', 'tenant', 'contoso.com'], { env })).exitCode, 0)
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      profiles: { default: { tenant: 'contoso.com' } },
    })
  })

  test("an object's built-in names are no profiles", async () => {
    const { home, env } = await configHome()
    for (const name of ['constructor', '__proto__', 'toString']) {
      const result = await run(home, ['accounts', '-c', 'app', '--profile', name, '-o', 'json'], {
        env,
      })
      assert.equal(result.exitCode, 2, `${name}: ${result.stderr}`)
      assert.match(result.stderr, /^msal-ts: unknown_profile: no profile named /)
    }
    for (const args of [
      ['get', 'constructor'],
      ['set', 'toString', 'v'],
      ['unset', '__proto__'],
    ]) {
      const result = await run(home, ['config', ...args], { env })
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: unknown_config_key: unknown config key /)
    }
  })

  test('a config directory named with a trailing slash, not there yet, is made and used', async () => {
    const home = await tempDir()
    const env = { MSAL_TS_CONFIG_DIR: `${join(home, 'new', 'cfg')}/` }
    const set = await run(home, ['config', 'set', 'client-id', 'app-one'], { env })
    assert.equal(set.exitCode, 0, set.stderr)
    assert.equal((await stat(join(home, 'new', 'cfg', 'config.json'))).mode & 0o777, 0o600)
    assert.equal((await stat(join(home, 'new', 'cfg'))).mode & 0o777, 0o700)
    const get = await run(home, ['config', 'get', 'client-id'], { env })
    assert.equal(get.stdout, 'app-one\n')
  })

  test('a config directory the system refuses is one line, never a hang', async () => {
    const home = await tempDir()
    const result = await run(home, ['config', 'set', 'client-id', 'x'], {
      env: { MSAL_TS_CONFIG_DIR: '/proc/1/no-such-dir' },
    })
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(
      result.stderr,
      'msal-ts: config_io: cannot write the config file /proc/1/no-such-dir/config.json: no such file or directory\n',
    )
  })

  test('a hand-edited config whose value is no string is a usage error naming the key', async () => {
    const { home, env } = await configHome()
    await mkdir(join(home, 'config'), { mode: 0o700 })
    for (const [config, named] of [
      [
        '{"profiles":{"default":{"client-id":5}}}',
        /"client-id" in profile "default" is not a string/,
      ],
      ['{"profiles":{"default":{"tenant":[]}}}', /"tenant" in profile "default" is not a string/],
      ['{"profiles":{"default":"x"}}', /profile "default" is not an object/],
      ['[1]', /it is not a JSON object/],
    ] as const) {
      await writeFile(join(home, 'config', 'config.json'), config)
      const result = await run(home, ['accounts', '-c', 'app', '-o', 'json'], { env })
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(
        result.stderr,
        /^msal-ts: invalid_config: the config file .*config\.json is not valid: /,
      )
      assert.match(result.stderr, named)
    }
  })
})

describe('profiles: option > environment > profile > default', () => {
  let sts: Sts
  const otherClient = '0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a'

  before(async () => {
    sts = await startSts()
    sts.addClient({ clientId: otherClient, secret: sts.defaults.clientSecret })
  })
  after(() => sts.close())

  /** A home whose default profile names the STS's confidential app, tenant, CA and JSON output. */
  async function profiled(): Promise<{ home: string; env: Record<string, string> }> {
    const { home, env } = await configHome()
    for (const [key, value] of [
      ['client-id', sts.defaults.confidentialClientId],
      ['cloud', sts.url],
      ['tenant', sts.tenantId],
      ['ca-file', sts.caFile],
      ['output', 'json'],
    ]) {
      const set = await run(home, ['config', 'set', key ?? '', value ?? ''], { env })
      assert.equal(set.exitCode, 0, set.stderr)
    }
    return { home, env: { ...env, AZURE_CLIENT_SECRET: sts.defaults.clientSecret } }
  }

  /** The client of the last token request, and the tenant in the path of the first request since the last call. */
  const lastRequest = () => {
    const request = sts.tokenRequests().at(-1)
    const tenant = sts.log[0]?.path.split('/')[1]
    sts.clearLog()
    return { clientId: request?.form?.['client_id'], tenant }
  }

  /** Each run of client-token (its extra arguments and environment) asks the STS's own tenant. */
  async function assertSentToOwnTenant(
    home: string,
    env: Record<string, string>,
    runs: [args: string[], extraEnv: Record<string, string>][],
  ): Promise<void> {
    for (const [args, extraEnv] of runs) {
      sts.clearLog()
      const result = await run(
        home,
        ['client-token', '--scope', graph, '--force-refresh', ...args],
        { env: { ...env, ...extraEnv } },
      )
      assert.equal(result.exitCode, 0, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(lastRequest().tenant, sts.tenantId, args.join(' '))
    }
  }

  /** config.json as a hand edit leaves it, its default profile naming the STS's app and CA. */
  async function handWritten(
    file: string,
    defaults: Record<string, string>,
    named: Record<string, Record<string, string>> = {},
  ): Promise<void> {
    const app = { 'client-id': sts.defaults.confidentialClientId, 'ca-file': sts.caFile }
    await mkdir(dirname(file), { recursive: true })
    await writeFile(
      file,
      JSON.stringify({ profiles: { default: { ...app, ...defaults }, ...named } }),
    )
  }

  test('the default profile supplies client id, cloud and tenant, CA file and output', async () => {
    const { home, env } = await profiled()
    sts.clearLog()
    const result = await run(home, ['client-token', '--scope', graph], { env })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    const doc = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(doc['token_type'], 'Bearer')
    assert.deepEqual(lastRequest(), {
      clientId: sts.defaults.confidentialClientId,
      tenant: sts.tenantId,
    })
  })

  test('the environment beats the profile, and an option beats both', async () => {
    const { home, env } = await profiled()
    sts.clearLog()
    const byEnv = await run(home, ['client-token', '--scope', graph, '--force-refresh'], {
      env: { ...env, MSAL_TS_CLIENT_ID: otherClient, AZURE_TENANT_ID: sts.tenantDomain },
    })
    assert.equal(byEnv.exitCode, 0, byEnv.stderr)
    assert.deepEqual(lastRequest(), {
      clientId: otherClient,
      tenant: sts.tenantDomain,
    })
    const byOption = await run(
      home,
      [
        'client-token',
        '--scope',
        graph,
        '-c',
        sts.defaults.confidentialClientId,
        '-t',
        sts.tenantId,
        '-o',
        'raw',
      ],
      { env: { ...env, MSAL_TS_CLIENT_ID: otherClient, AZURE_TENANT_ID: sts.tenantDomain } },
    )
    assert.equal(byOption.exitCode, 0, byOption.stderr)
    assert.match(byOption.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.deepEqual(lastRequest(), {
      clientId: sts.defaults.confidentialClientId,
      tenant: sts.tenantId,
    })
  })

  test('a named profile is laid over the default one; a missing one is exit 2', async () => {
    const { home, env } = await profiled()
    const set = await run(home, ['config', 'set', '--profile', 'other', 'client-id', otherClient], {
      env,
    })
    assert.equal(set.exitCode, 0, set.stderr)
    for (const [args, extra] of [
      [['--profile', 'other'], {}],
      [[], { MSAL_TS_PROFILE: 'other' }],
    ] as const) {
      const result = await run(
        home,
        ['client-token', '--scope', graph, '--force-refresh', ...args],
        {
          env: { ...env, ...extra },
        },
      )
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(lastRequest().clientId, otherClient)
    }
    for (const [args, extra] of [
      [['--profile', 'missing'], {}],
      [[], { MSAL_TS_PROFILE: 'missing' }],
    ] as const) {
      const result = await run(home, ['client-token', '--scope', graph, ...args], {
        env: { ...env, ...extra },
      })
      assert.equal(result.exitCode, 2)
      assert.equal(result.stdout, '')
      assert.match(
        result.stderr,
        /^msal-ts: unknown_profile: no profile named "missing" \(profiles: other\)/,
      )
    }
  })

  test("a named profile's tenant or authority beats the default profile's authority as a whole", async () => {
    const { home, env } = await profiled()
    // The default profile names another provider (nothing listens there): the named profile's
    // tenant, or its own authority, must be where the client secret goes.
    const elsewhere = 'https://127.0.0.1:9/elsewhere'
    for (const [key, value] of [
      ['authority', elsewhere],
      ['oidc-authority', elsewhere],
    ]) {
      const config = (...args: string[]) => run(home, ['config', ...args], { env })
      assert.equal((await config('unset', 'tenant')).exitCode, 0)
      assert.equal((await config('unset', 'authority')).exitCode, 0)
      assert.equal((await config('unset', 'oidc-authority')).exitCode, 0)
      // A cloud goes with a tenant: the named profile holds both.
      assert.equal((await config('unset', 'cloud')).exitCode, 0)
      assert.equal((await config('set', key ?? '', value ?? '')).exitCode, 0)
      assert.equal(
        (await config('set', '--profile', 'work', 'tenant', sts.tenantDomain)).exitCode,
        0,
      )
      assert.equal((await config('set', '--profile', 'work', 'cloud', sts.url)).exitCode, 0)
      assert.equal(
        (await config('set', '--profile', 'lab', 'authority', sts.authority())).exitCode,
        0,
      )
      for (const profile of ['work', 'lab']) {
        sts.clearLog()
        const result = await run(
          home,
          ['client-token', '--scope', graph, '--force-refresh', '--profile', profile],
          { env },
        )
        assert.equal(result.exitCode, 0, `${key} ${profile}: ${result.stderr}`)
        assert.equal(lastRequest().clientId, sts.defaults.confidentialClientId)
      }
    }
  })

  test('config get shows the authority a run uses; one profile holds one authority, tenant or provider', async () => {
    const { home, env } = await profiled()
    const config = (...args: string[]) => run(home, ['config', ...args], { env })
    assert.equal((await config('unset', 'tenant')).exitCode, 0)
    const cloud = await config('set', 'authority', 'https://127.0.0.1:9/elsewhere')
    assert.equal(cloud.exitCode, 2)
    assert.equal(
      cloud.stderr,
      'msal-ts: conflicting_options: the profile holds cloud already, and authority would not act beside it: msal-ts config unset cloud first\n',
    )
    assert.equal((await config('unset', 'cloud')).exitCode, 0)
    assert.equal((await config('set', 'authority', 'https://127.0.0.1:9/elsewhere')).exitCode, 0)
    assert.equal((await config('set', '--profile', 'work', 'tenant', sts.tenantId)).exitCode, 0)
    assert.equal((await config('set', '--profile', 'work', 'cloud', sts.url)).exitCode, 0)
    // The run goes to the named profile's tenant and cloud ...
    sts.clearLog()
    const result = await run(home, ['client-token', '--scope', graph, '--profile', 'work'], { env })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(lastRequest().tenant, sts.tenantId)
    // ... and config says so, not that the default's authority applies.
    const got = await config('get', '--profile', 'work', 'authority')
    assert.equal(got.exitCode, 1)
    assert.equal(got.stderr, 'msal-ts: not_set: authority is not set\n')
    const listed = await config('list', '--profile', 'work', '-o', 'json')
    const work = (JSON.parse(listed.stdout) as Record<string, Record<string, string>>)['work']
    assert.equal(work?.['authority'], undefined)
    assert.equal(work?.['tenant'], sts.tenantId)
    assert.equal(work?.['cloud'], sts.url)

    const second = await config('set', '--profile', 'work', 'authority', sts.authority())
    assert.equal(second.exitCode, 2)
    assert.equal(
      second.stderr,
      'msal-ts: conflicting_options: the profile holds tenant already, and authority would not act beside it: msal-ts config unset --profile work tenant first\n',
    )
    const file = join(home, 'config', 'config.json')
    const before = await readFile(file, 'utf8')
    assert.equal((await config('set', 'oidc-authority', sts.url)).exitCode, 2)
    assert.equal(await readFile(file, 'utf8'), before)
  })

  test('an authority and a tenant of one layer that disagree are refused; a nearer cloud moves an authority', async () => {
    const { home, env } = await profiled()
    const file = join(home, 'config', 'config.json')
    const profiles = JSON.parse(await readFile(file, 'utf8')) as {
      profiles: Record<string, Record<string, string>>
    }
    // As a hand edit, or an older msal-ts, could leave them.
    profiles.profiles['two'] = { authority: sts.authority(), tenant: 'fabrikam.com' }
    profiles.profiles['oidc'] = { 'oidc-authority': sts.url, tenant: sts.tenantId }
    profiles.profiles['moved'] = { cloud: sts.url }
    profiles.profiles['default'] = {
      ...profiles.profiles['default'],
      tenant: undefined as unknown as string,
      authority: `https://login.microsoftonline.com/${sts.tenantId}`,
    }
    await writeFile(file, JSON.stringify(profiles))
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['--profile', 'two'],
        {},
        `the authority of profile "two" names the tenant "${sts.tenantId}" and the tenant of profile "two" "fabrikam.com": unset one of them`,
      ],
      [
        ['--profile', 'oidc'],
        {},
        'the tenant of profile "oidc" cannot act beside the oidc-authority of profile "oidc": unset one of them',
      ],
    ]
    for (const [args, extraEnv, message] of cases) {
      const result = await run(home, ['client-token', '--scope', graph, ...args], {
        env: { ...env, ...extraEnv },
      })
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, `msal-ts: conflicting_options: ${message}\n`)
    }
    // AZURE_TENANT_ID, which the Azure SDK's tools read too, yields to MSAL_TS_AUTHORITY, whatever
    // tenant it names (a domain and an id of one tenant are two spellings).
    sts.clearLog()
    const ambient = await run(home, ['client-token', '--scope', graph, '--force-refresh'], {
      env: { ...env, MSAL_TS_AUTHORITY: sts.authority(), AZURE_TENANT_ID: sts.tenantDomain },
    })
    assert.equal(ambient.exitCode, 0, ambient.stderr)
    assert.equal(lastRequest().tenant, sts.tenantId)
    // The default profile's public-cloud authority is moved to the named profile's cloud (and to
    // AZURE_AUTHORITY_HOST's), with its tenant: the requests reach the loopback STS.
    await assertSentToOwnTenant(home, env, [
      [['--profile', 'moved'], {}],
      [[], { AZURE_AUTHORITY_HOST: sts.url }],
    ])
  })

  test("a nearer tenant keeps a farther authority URL's cloud; AZURE_TENANT_ID leaves a profile's OpenID provider be", async () => {
    const { home, env } = await configHome()
    const file = join(home, 'config', 'config.json')
    const elsewhere = 'https://127.0.0.1:9/elsewhere'
    // A cloud of its own (a sovereign one, here the loopback STS), and another tenant.
    await handWritten(
      file,
      { authority: sts.authority('fabrikam.com') },
      { provider: { 'oidc-authority': elsewhere } },
    )
    const secret = { ...env, AZURE_CLIENT_SECRET: sts.defaults.clientSecret }
    await assertSentToOwnTenant(home, secret, [
      [['--tenant', sts.tenantId], {}],
      [[], { AZURE_TENANT_ID: sts.tenantId }],
    ])
    // A farther authority that is not in effect is not checked: a broken one yields no cloud.
    const broken = JSON.parse(await readFile(file, 'utf8')) as {
      profiles: Record<string, Record<string, string>>
    }
    await writeFile(
      file,
      JSON.stringify({
        profiles: {
          ...broken.profiles,
          default: { ...broken.profiles['default'], authority: 'ftp://x/t' },
        },
      }),
    )
    const named = await run(home, ['accounts', '--tenant', sts.tenantId, '-o', 'json'], { env })
    assert.equal(named.exitCode, 0, named.stderr)
    await writeFile(file, JSON.stringify(broken))
    // The provider's secret goes to the provider (nothing listens there), not to an Entra tenant.
    const provider = await run(home, ['client-token', '--scope', graph, '--profile', 'provider'], {
      env: { ...secret, AZURE_TENANT_ID: sts.tenantId, MSAL_TS_TIMEOUT: '5' },
    })
    assert.equal(provider.exitCode, 1, provider.stderr)
    assert.match(provider.stderr, /127\.0\.0\.1:9/)
  })

  test("a cloud moves only an Entra authority; under --cloud the authority URL beats its own layer's tenant", async () => {
    const { home, env } = await configHome()
    const file = join(home, 'config', 'config.json')
    // B2C and ADFS hosts are their own: nothing listens at this one, so a run that kept it fails
    // to connect, and one that moved it reaches the STS.
    const b2c = 'https://127.0.0.1:9/contoso.onmicrosoft.com/B2C_1_signin'
    await handWritten(file, {}, { b2c: { authority: b2c } })
    const secret = { ...env, AZURE_CLIENT_SECRET: sts.defaults.clientSecret, MSAL_TS_TIMEOUT: '5' }
    sts.clearLog()
    const kept = await run(home, ['client-token', '--scope', graph, '--profile', 'b2c'], {
      env: { ...secret, AZURE_AUTHORITY_HOST: sts.url },
    })
    assert.equal(kept.exitCode, 1, kept.stderr)
    assert.match(kept.stderr, /127\.0\.0\.1:9/)
    assert.equal(sts.log.length, 0)
    // AZURE_TENANT_ID stands back only from the OpenID provider in effect without it: here the
    // named profile's tenant is, so the variable's tenant goes to that profile's cloud.
    await handWritten(
      file,
      { 'oidc-authority': 'https://127.0.0.1:9/issuer' },
      { entra: { tenant: 'fabrikam.com', cloud: sts.url } },
    )
    sts.clearLog()
    const ambient = await run(home, ['client-token', '--scope', graph, '--profile', 'entra'], {
      env: { ...secret, AZURE_TENANT_ID: sts.tenantId },
    })
    assert.equal(ambient.exitCode, 0, ambient.stderr)
    assert.equal(lastRequest().tenant, sts.tenantId)
    // Under --cloud, MSAL_TS_AUTHORITY's tenant beats AZURE_TENANT_ID, whose bad value is not in effect.
    sts.clearLog()
    const moved = await run(
      home,
      ['client-token', '--scope', graph, '--cloud', sts.url, '--force-refresh'],
      {
        env: {
          ...secret,
          MSAL_TS_AUTHORITY: 'https://login.microsoftonline.com/' + sts.tenantId,
          AZURE_TENANT_ID: 'a/b',
        },
      },
    )
    assert.equal(moved.exitCode, 0, moved.stderr)
    assert.equal(lastRequest().tenant, sts.tenantId)
  })

  test('a profile cache dir holds the token cache unless MSAL_TS_CACHE_DIR is set', async () => {
    const { home, env } = await profiled()
    const set = await run(home, ['config', 'set', 'cache-dir', join(home, 'profile-cache')], {
      env,
    })
    assert.equal(set.exitCode, 0, set.stderr)
    const result = await run(home, ['client-token', '--scope', graph], {
      env: { ...env, MSAL_TS_CACHE_DIR: undefined },
    })
    assert.equal(result.exitCode, 0, result.stderr)
    assert.ok(
      (await readdir(join(home, 'profile-cache'))).some((f) => f.startsWith('token-cache.')),
    )
  })

  test('a cached token is answered from the profile without loading the config library', async () => {
    const { home, env } = await configHome()
    for (const [key, value] of [
      ['client-id', sts.defaults.publicClientId],
      ['authority', sts.authority()],
      ['ca-file', sts.caFile],
      ['output', 'json'],
    ]) {
      assert.equal(
        (await run(home, ['config', 'set', key ?? '', value ?? ''], { env })).exitCode,
        0,
      )
    }
    const login = await run(
      home,
      ['login', '--username', sts.defaults.username, '--password-stdin', '--scope', userScope],
      { env, input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
    sts.clearLog()
    const log = join(home, 'modules.log')
    const hit = await run(home, ['token', '--scope', userScope], {
      env: {
        ...env,
        NODE_OPTIONS: `--require ${join(import.meta.dirname, 'module-trace.cjs')}`,
        MSAL_TS_TEST_MODULE_LOG: log,
      },
    })
    assert.equal(hit.exitCode, 0, hit.stderr)
    assert.equal((JSON.parse(hit.stdout) as { token_source: string }).token_source, 'cache')
    assert.deepEqual(sts.log, [])
    const modules = (await readFile(log, 'utf8')).split('\n')
    for (const heavy of ['commander', 'conf', 'undici', 'jose']) {
      assert.ok(!modules.includes(heavy), `${heavy} was loaded`)
    }
    const header = await run(home, ['token', '--scope', userScope, '-o', 'header'], { env })
    assert.match(header.stdout, /^Authorization: Bearer eyJ/)
  })
})
