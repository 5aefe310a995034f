import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { join } from 'node:path'
import { before, after, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, withoutCaFile, run, tempDir, type CliResult } from './harness.js'

const scope = 'https://graph.microsoft.com/User.Read'
const graph = 'https://graph.microsoft.com/.default'
const nobody = 65534

interface Snapshot {
  kind: string
  mode: number
  uid: number
  bytes?: string
}

/** What a user would compare after the run: the kind of file, its mode, owner and bytes. */
async function snapshot(path: string): Promise<Snapshot> {
  const stats = await lstat(path)
  const kind = stats.isSymbolicLink()
    ? 'symlink'
    : stats.isFIFO()
      ? 'fifo'
      : stats.isDirectory()
        ? 'directory'
        : 'file'
  const small = kind === 'file' && stats.size < 1024 * 1024
  return {
    kind,
    mode: stats.mode,
    uid: stats.uid,
    ...(small ? { bytes: await readFile(path, 'utf8') } : {}),
  }
}

function assertRefused(result: CliResult, what: string): void {
  assert.equal(result.exitCode, 1, `${what}: ${result.stderr}`)
  assert.equal(result.stdout, '', what)
  assertNoStack(result.stderr)
  assert.match(result.stderr, /^msal-ts: unsafe_cache_file: refusing cache file .+\n$/, what)
}

interface SignedIn {
  sts: Sts
  home: string
  signedIn: string
  userArgs: string[]
  appArgs: string[]
}

/** A test STS and a cache file holding a signed-in user and an app token, made through the binary. */
async function signedInCache(): Promise<SignedIn> {
  const sts = await startSts()
  const home = await tempDir()
  const signedIn = join(home, 'signed-in.json')
  const userArgs = sts.cliArgs(sts.defaults.publicClientId)
  const appArgs = sts.cliArgs(sts.defaults.confidentialClientId)
  const login = await run(
    home,
    [
      'login',
      ...userArgs,
      '--username',
      sts.defaults.username,
      '--password-stdin',
      '--scope',
      scope,
      '--cache-file',
      signedIn,
    ],
    { input: sts.defaults.password },
  )
  assert.equal(login.exitCode, 0, login.stderr)
  const app = await run(
    home,
    ['client-token', ...appArgs, '--scope', graph, '--cache-file', signedIn],
    { env: { AZURE_CLIENT_SECRET: sts.defaults.clientSecret } },
  )
  assert.equal(app.exitCode, 0, app.stderr)
  return { sts, home, signedIn, userArgs, appArgs }
}

describe('a cache file planted by someone else is refused at once', () => {
  let sts: Sts
  let home: string
  let signedIn: string
  let userArgs: string[]
  let appArgs: string[]
  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  before(async () => {
    ;({ sts, home, signedIn, userArgs, appArgs } = await signedInCache())
  })
  after(() => sts.close())

  /** Every command that reads or writes the token cache, pointed at `path`. */
  async function everyCommand(path: string, watched: string[]): Promise<void> {
    const before = await Promise.all(watched.map(snapshot))
    const commands: [string, string[], Record<string, string>][] = [
      ['client-token', ['client-token', ...appArgs, '--scope', graph], secretEnv()],
      ['token (cache-hit path)', ['token', ...userArgs, '--scope', scope], {}],
      ['token (full path)', ['token', ...userArgs, '--scope', scope, '--log-level', 'info'], {}],
      ['accounts', ['accounts', ...withoutCaFile(userArgs), '-o', 'json'], {}],
      ['logout', ['logout', ...withoutCaFile(userArgs), '--all'], {}],
    ]
    sts.clearLog()
    for (const [what, args, env] of commands) {
      assertRefused(await run(home, [...args, '--cache-file', path], { env }), what)
    }
    assert.deepEqual(sts.tokenRequests(), [], 'nothing is asked of the identity provider')
    assert.deepEqual(await Promise.all(watched.map(snapshot)), before)
  }

  test('a symbolic link in a directory others can write, and the file it points to', async () => {
    const open = join(await tempDir(), 'shared')
    await mkdir(open)
    await chmod(open, 0o1777)
    const victim = join(await tempDir(), 'victim.json')
    await copyFile(signedIn, victim)
    await chmod(victim, 0o644)
    const planted = join(open, 'cache.json')
    await symlink(victim, planted)
    await everyCommand(planted, [planted, victim])
  })

  test('a dangling symbolic link there: nothing is created at its target', async () => {
    const open = join(await tempDir(), 'shared')
    await mkdir(open)
    await chmod(open, 0o777)
    const target = join(await tempDir(), 'created-by-us.json')
    const planted = join(open, 'cache.json')
    await symlink(target, planted)
    await everyCommand(planted, [planted])
    await assert.rejects(lstat(target), { code: 'ENOENT' })
  })

  test('a linked directory in a directory others can write, and the file under it', async () => {
    const open = join(await tempDir(), 'shared')
    await mkdir(open)
    await chmod(open, 0o1777)
    const theirs = await tempDir()
    const victim = join(theirs, 'cache.json')
    await copyFile(signedIn, victim)
    await symlink(theirs, join(open, 'ci'))
    await everyCommand(join(open, 'ci', 'cache.json'), [join(open, 'ci'), victim])
  })

  test('`..` after a linked directory: every command uses the file the system reaches', async () => {
    // work/linkdir -> ../elsewhere/sub, so work/linkdir/../cache.json is elsewhere/cache.json.
    const dir = await tempDir()
    await mkdir(join(dir, 'work'))
    await mkdir(join(dir, 'elsewhere', 'sub'), { recursive: true })
    await symlink('../elsewhere/sub', join(dir, 'work', 'linkdir'))
    const path = `${join(dir, 'work', 'linkdir')}/../cache.json`
    const app = ['client-token', ...appArgs, '--scope', graph, '--cache-file', path]
    const first = await run(home, app, { env: secretEnv() })
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(await readFile(join(dir, 'elsewhere', 'cache.json'), 'utf8'), /"AccessToken"/)
    sts.clearLog()
    const again = await run(home, app, { env: secretEnv() })
    assert.equal(again.exitCode, 0, again.stderr)
    assert.equal(again.stdout, first.stdout, 'the token written is the token found')
    assert.deepEqual(sts.tokenRequests(), [])
    await assert.rejects(lstat(join(dir, 'work', 'cache.json')), { code: 'ENOENT' })

    const inDir = ['client-token', ...appArgs, '--scope', graph, '--cache-dir']
    const byDir = await run(home, [...inDir, `${join(dir, 'work', 'linkdir')}/..`], {
      env: secretEnv(),
    })
    assert.equal(byDir.exitCode, 0, byDir.stderr)
    const made = await readdir(join(dir, 'elsewhere'))
    assert.ok(
      made.some((name) => name.startsWith('token-cache.')),
      made.join(' '),
    )
    assert.ok(made.includes('msal-ts.http-cache.json'), made.join(' '))
    assert.deepEqual((await readdir(join(dir, 'work'))).sort(), ['linkdir'])
  })

  test('a path the system cannot reach a file by is no cache: `missing/..` and `nf/`', async () => {
    const dir = await tempDir()
    const app = ['client-token', ...appArgs, '--scope', graph, '--cache-file']
    const through = await run(dir, [...app, `${dir}/missing/../c.json`], { env: secretEnv() })
    assert.equal(through.exitCode, 0, through.stderr)
    assert.match(through.stdout, /^ey/)
    assert.match(
      through.stderr,
      /^msal-ts: warning: tokens not cached: .*no such file or directory$/m,
    )
    const slash = await run(dir, [...app, `${dir}/nf/`], { env: secretEnv() })
    assert.equal(slash.exitCode, 2, slash.stderr)
    assert.equal(slash.stdout, '')
    assert.match(
      slash.stderr,
      /^msal-ts: cache_file: cannot read cache file .*nf\/: it is a directory\n$/,
    )
    assert.deepEqual(await readdir(dir), [])
  })

  test('a symbolic link in a directory of the user only is followed', async () => {
    const dotfiles = await tempDir()
    const real = join(dotfiles, 'real.json')
    await copyFile(signedIn, real)
    const link = join(await tempDir(), 'cache.json')
    await symlink(real, link)
    sts.clearLog()
    const hit = await run(home, ['token', ...userArgs, '--scope', scope, '--cache-file', link])
    assert.equal(hit.exitCode, 0, hit.stderr)
    assert.deepEqual(sts.tokenRequests(), [])
    assert.equal((await snapshot(link)).kind, 'symlink')
  })

  test('a cache file owned by another user, even a valid one', async () => {
    const planted = join(await tempDir(), 'cache.json')
    await copyFile(signedIn, planted)
    await chown(planted, nobody, nobody)
    await everyCommand(planted, [planted])
  })

  test('a cache file, or a config file, that every user can write', async () => {
    const planted = join(await tempDir(), 'cache.json')
    await copyFile(signedIn, planted)
    await chmod(planted, 0o666)
    await everyCommand(planted, [planted])
    // A config file anyone can write could name the authority client secrets are sent to.
    const configDir = await tempDir()
    const config = join(configDir, 'config.json')
    await writeFile(config, JSON.stringify({ profiles: { default: { tenant: 'evil' } } }))
    await chmod(config, 0o666)
    const result = await run(home, ['client-token', ...appArgs, '--scope', graph], {
      env: { ...secretEnv(), MSAL_TS_CONFIG_DIR: configDir },
    })
    assert.equal(result.exitCode, 2)
    assert.equal(result.stdout, '')
    assert.equal(
      result.stderr,
      `msal-ts: unreadable_config: cannot read the config file ${config}: every user can write it (mode 0666)\n`,
    )
  })

  test('a FIFO never blocks, past any timeout', async () => {
    const planted = join(await tempDir(), 'cache.json')
    execFileSync('mkfifo', [planted])
    await everyCommand(planted, [planted])
  })

  test('a directory at the cache path is a usage error, as an unreadable file is', async () => {
    const planted = join(await tempDir(), 'cache.json')
    await mkdir(planted)
    const result = await run(home, [
      'token',
      ...userArgs,
      '--scope',
      scope,
      '--cache-file',
      planted,
    ])
    assert.equal(result.exitCode, 2, result.stderr)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^msal-ts: cache_file: .*: it is a directory\n$/)
  })

  test('a huge file is refused without being read', async () => {
    const planted = join(await tempDir(), 'cache.json')
    execFileSync('truncate', ['-s', '64M', planted])
    await everyCommand(planted, [planted])
  })
})

describe('files the user names are never waited on', () => {
  let sts: Sts
  let home: string
  before(async () => {
    sts = await startSts()
    home = await tempDir()
  })
  after(() => sts.close())

  test('a FIFO, a directory or a huge file as an assertion, certificate, CA or config file', async () => {
    const dir = await tempDir()
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const huge = join(dir, 'huge')
    execFileSync('truncate', ['-s', '64M', huge])
    const app = ['client-token', '-c', sts.defaults.confidentialClientId, '-a', sts.authority()]
    const cases: [string[], Record<string, string>][] = [
      [[...app, '--ca-file', sts.caFile, '--client-assertion-file', fifo, '--scope', graph], {}],
      [[...app, '--ca-file', sts.caFile, '--certificate', dir, '--scope', graph], {}],
      [[...app, '--ca-file', huge, '--scope', graph], { AZURE_CLIENT_SECRET: 'x' }],
      [[...app, '--ca-file', fifo, '--scope', graph], { AZURE_CLIENT_SECRET: 'x' }],
      [['accounts', '-c', 'x'], { MSAL_TS_CONFIG_DIR: join(dir, 'config') }],
    ]
    await mkdir(join(dir, 'config'))
    execFileSync('mkfifo', [join(dir, 'config', 'config.json')])
    for (const [args, env] of cases) {
      const result = await run(home, args, { env })
      assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stdout, '')
      assertNoStack(result.stderr)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    }
  })
})

describe('malformed cache entries are absent, never served, and kept', () => {
  let sts: Sts
  let home: string
  let signedIn: string
  let userArgs: string[]
  let appArgs: string[]
  const secretEnv = () => ({ AZURE_CLIENT_SECRET: sts.defaults.clientSecret })

  before(async () => {
    ;({ sts, home, signedIn, userArgs, appArgs } = await signedInCache())
  })
  after(() => sts.close())

  type Doc = Record<string, Record<string, Record<string, unknown>>>

  /**
   * A copy of the signed-in cache with one field of every entry of a section replaced, under a key
   * msal-ts does not write (as another library's entry would be).
   */
  async function plant(section: string, field: string, value: unknown): Promise<string> {
    const doc = JSON.parse(await readFile(signedIn, 'utf8')) as Doc
    doc[section] = Object.fromEntries(
      Object.entries(doc[section] ?? {}).map(([key, entry]) => [
        `${key}-planted`,
        { ...entry, [field]: value },
      ]),
    )
    const path = join(await tempDir(), 'cache.json')
    await writeFile(path, JSON.stringify(doc, null, 4), { mode: 0o600 })
    return path
  }

  async function entries(path: string, section: string): Promise<Record<string, unknown>[]> {
    const doc = JSON.parse(await readFile(path, 'utf8')) as Doc
    return Object.values(doc[section] ?? {})
  }

  for (const [field, value] of [
    ['expires_on', 'abc'],
    ['expires_on', '1e12'],
    ['secret', {}],
    ['secret', 'eyJ\nforged: line'],
    ['secret', ''],
    ['target', 42],
    ['cached_at', 'soon'],
    ['refresh_on', 12.5],
  ] as const) {
    test(`an access token with ${field} ${JSON.stringify(value)} is not served`, async () => {
      const path = await plant('AccessToken', field, value)
      const planted = await entries(path, 'AccessToken')
      sts.clearLog()
      const user = await run(home, ['token', ...userArgs, '--scope', scope, '--cache-file', path])
      assert.equal(user.exitCode, 0, user.stderr)
      assert.match(user.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
      const app = await run(
        home,
        ['client-token', ...appArgs, '--scope', graph, '--cache-file', path],
        { env: secretEnv() },
      )
      assert.equal(app.exitCode, 0, app.stderr)
      assert.match(app.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
      assert.equal(sts.tokenRequests().length, 2, 'both tokens were asked for afresh')
      const kept = await entries(path, 'AccessToken')
      for (const entry of planted) {
        assert.ok(
          kept.some((k) => JSON.stringify(k) === JSON.stringify(entry)),
          'the malformed entry is still in the file',
        )
      }
    })
  }

  test('a refresh token with a non-string secret is not redeemed: sign-in needed', async () => {
    const doc = JSON.parse(
      await readFile(await plant('RefreshToken', 'secret', { a: 1 }), 'utf8'),
    ) as Doc
    doc['AccessToken'] = {}
    const path = join(await tempDir(), 'cache.json')
    await writeFile(path, JSON.stringify(doc, null, 4), { mode: 0o600 })
    sts.clearLog()
    const result = await run(home, ['token', ...userArgs, '--scope', scope, '--cache-file', path])
    assert.equal(result.exitCode, 3, result.stderr)
    assert.equal(result.stdout, '')
    assert.deepEqual(
      sts.tokenRequests().map((r) => r.form?.['grant_type']),
      [],
      'the malformed refresh token was never sent',
    )
    assert.deepEqual(await entries(path, 'RefreshToken'), Object.values(doc['RefreshToken'] ?? {}))
  })

  test('an account with a numeric username is absent from accounts, and kept', async () => {
    const path = await plant('Account', 'username', 42)
    for (const output of ['table', 'json']) {
      const result = await run(home, [
        'accounts',
        ...withoutCaFile(userArgs),
        '-o',
        output,
        '--cache-file',
        path,
      ])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stderr, '')
      if (output === 'json') {
        assert.deepEqual(JSON.parse(result.stdout), [])
      }
    }
    const token = await run(home, ['token', ...userArgs, '--scope', scope, '--cache-file', path])
    assert.equal(token.exitCode, 3, token.stderr)
    assert.equal(token.stdout, '')
    const logout = await run(home, [
      'logout',
      ...withoutCaFile(userArgs),
      '--all',
      '--cache-file',
      path,
    ])
    assert.equal(logout.exitCode, 0, logout.stderr)
    assert.equal((await entries(path, 'Account'))[0]?.['username'], 42)
  })
})
