import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startGitServer, type GitServer } from '../fixtures/git-server.js'
import { startManagedIdentityEndpoints } from '../fixtures/managed-identity.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, bin, cliEnv, run, tempDir } from './harness.js'

const devOps = '499b84ac-1321-427f-aa17-267ca6975798'
const devOpsScope = `${devOps}/.default`

/** The claims of a JWT, unchecked. */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >
}

/** git's answer lines as a map. */
function fields(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
}

describe('msal-ts git-credential', () => {
  let sts: Sts
  let git: GitServer
  let home: string
  /** The token the git server takes as the password; any other is refused. */
  let accepted = ''

  before(async () => {
    sts = await startSts()
    git = await startGitServer({
      dir: await tempDir(),
      accepts: (_username, password) => accepted !== '' && password === accepted,
    })
    home = await tempDir()
    await login(home)
  })
  after(async () => {
    await git.close()
    await sts.close()
  })

  const common = () => sts.cliArgs(sts.defaults.publicClientId)
  const helperCommand = (args: string[] = common()) => `!${bin} git-credential ${args.join(' ')}`

  async function login(
    dir: string,
    user = { username: sts.defaults.username, password: sts.defaults.password },
  ): Promise<void> {
    const result = await run(
      dir,
      ['login', ...common(), '--username', user.username, '--password-stdin'],
      { input: `${user.password}\n` },
    )
    assert.equal(result.exitCode, 0, result.stderr)
  }

  /** Real git, with nothing from the machine's configuration, and never a terminal prompt. */
  const runGit = (dir: string, args: string[], input?: string) =>
    execa('git', args, {
      env: { ...cliEnv(dir), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '' },
      extendEnv: false,
      reject: false,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    })

  const helper = (dir: string, operation: string, input: string, extra: string[] = []) =>
    run(dir, ['git-credential', operation, ...common(), ...extra], { input })

  test('git credential fill: the signed-in account, a token for Azure DevOps from the refresh token', async () => {
    sts.clearLog()
    const filled = await runGit(
      home,
      ['-c', `credential.helper=${helperCommand()}`, 'credential', 'fill'],
      'protocol=https\nhost=dev.azure.com\npath=org/_git/repo\n\n',
    )
    assert.equal(filled.exitCode, 0, filled.stderr)
    const answer = fields(filled.stdout)
    assert.equal(answer.get('host'), 'dev.azure.com')
    assert.equal(answer.get('username'), sts.defaults.username)
    const password = answer.get('password') ?? ''
    assert.equal(claimsOf(password)['aud'], devOps)
    const [request] = sts.tokenRequests()
    assert.equal(request?.form?.['grant_type'], 'refresh_token')
    assert.match(request?.form?.['scope'] ?? '', new RegExp(`(^| )${devOpsScope}( |$)`))
    assert.equal(sts.tokenRequests().length, 1)
  })

  test('git ls-remote against an HTTPS git server that takes only the token as the password', async () => {
    const got = await run(home, ['token', ...common(), '--resource', devOps])
    assert.equal(got.exitCode, 0, got.stderr)
    accepted = got.stdout.trim()
    git.log.length = 0
    sts.clearLog()
    const listed = await runGit(home, [
      ...git.gitOptions,
      '-c',
      `credential.helper=${helperCommand()}`,
      'ls-remote',
      git.repoUrl,
    ])
    assert.equal(listed.exitCode, 0, listed.stderr)
    assert.match(listed.stdout, /^[0-9a-f]{40}\trefs\/heads\/main$/m)
    assert.equal(git.log[0]?.status, 401, 'git asks without credentials first')
    const authorised = git.log.filter((entry) => entry.password !== undefined)
    assert.ok(authorised.length > 0)
    assert.ok(authorised.every((entry) => entry.password === accepted && entry.status === 200))
    assert.deepEqual(sts.tokenRequests(), [], 'the cached token, no request')

    // Without the helper the same server refuses git.
    git.log.length = 0
    const refused = await runGit(home, [...git.gitOptions, 'ls-remote', git.repoUrl])
    assert.notEqual(refused.exitCode, 0)
    assert.ok(git.log.every((entry) => entry.status === 401))
  })

  test('any other host (or http) gets nothing, so git asks its next helper; never a request', async () => {
    sts.clearLog()
    for (const input of [
      'protocol=https\nhost=github.com\n\n',
      'protocol=http\nhost=dev.azure.com\n\n',
      'protocol=https\nhost=dev.azure.com.evil.example\n\n',
      'protocol=https\nhost=notvisualstudio.com\n\n',
    ]) {
      const result = await helper(home, 'get', input)
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, '')
    }
    const next = '!f() { echo username=next; echo password=from-the-next-helper; }; f'
    const filled = await runGit(
      home,
      [
        '-c',
        `credential.helper=${helperCommand()}`,
        '-c',
        `credential.helper=${next}`,
        'credential',
        'fill',
      ],
      'protocol=https\nhost=github.com\n\n',
    )
    assert.equal(filled.exitCode, 0, filled.stderr)
    assert.equal(fields(filled.stdout).get('password'), 'from-the-next-helper')
    assert.deepEqual(sts.log, [])
  })

  test('Azure DevOps hosts on any port, <org>.visualstudio.com, --host; the username git sent is kept', async () => {
    for (const [input, extra] of [
      ['protocol=https\nhost=dev.azure.com:8443\n\n', []],
      ['protocol=https\nhost=Contoso.VisualStudio.com\n\n', []],
      ['protocol=https\nhost=tfs.contoso.com\n\n', ['--host', 'tfs.contoso.com']],
      ['url=https://dev.azure.com/org/_git/repo\nwwwauth[]=Bearer x\nunknown=key\n\n', []],
    ] as const) {
      const result = await helper(home, 'get', input, [...extra])
      assert.equal(result.exitCode, 0, result.stderr)
      assert.match(result.stdout, /^username=.+\npassword=eyJ[\w.-]+\npassword_expiry_utc=\d+\n$/)
    }
    const named = await helper(home, 'get', 'protocol=https\nhost=dev.azure.com\nusername=org\n\n')
    assert.equal(fields(named.stdout).get('username'), 'org')
  })

  test('not signed in: nothing on stdout, exit 0, one line saying to run msal-ts login', async () => {
    const nobody = await tempDir()
    const result = await helper(nobody, 'get', 'protocol=https\nhost=dev.azure.com\n\n')
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts git-credential: no Azure DevOps token without signing in: .*msal-ts login[^\n]*\n$/,
    )

    // git then has no password, and with prompts off it stops there.
    const filled = await runGit(
      nobody,
      ['-c', `credential.helper=${helperCommand()}`, 'credential', 'fill'],
      'protocol=https\nhost=dev.azure.com\n\n',
    )
    assert.notEqual(filled.exitCode, 0)
    assert.match(filled.stderr, /msal-ts login/)
  })

  test('store and erase change nothing and exit 0', async () => {
    const dir = join(home, 'cache')
    const before = await Promise.all(
      (await readdir(dir)).map(async (file) => readFile(join(dir, file), 'utf8')),
    )
    for (const operation of ['store', 'erase', 'some-future-operation']) {
      const result = await helper(
        home,
        operation,
        'protocol=https\nhost=dev.azure.com\nusername=u\npassword=p\n\n',
      )
      assert.equal(result.exitCode, 0, result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, '')
    }
    const afterwards = await Promise.all(
      (await readdir(dir)).map(async (file) => readFile(join(dir, file), 'utf8')),
    )
    assert.deepEqual(afterwards, before)
  })

  test('client credentials for CI: the app token for Azure DevOps', async () => {
    const ci = await tempDir()
    sts.clearLog()
    const result = await run(
      ci,
      ['git-credential', 'get', ...sts.cliArgs(sts.defaults.confidentialClientId)],
      {
        input: 'protocol=https\nhost=dev.azure.com\n\n',
        env: { AZURE_CLIENT_SECRET: sts.defaults.clientSecret },
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(fields(result.stdout).get('username'), 'msal-ts')
    assert.equal(claimsOf(fields(result.stdout).get('password') ?? '')['idtyp'], 'app')
    const [request] = sts.tokenRequests()
    assert.equal(request?.form?.['grant_type'], 'client_credentials')
    assert.equal(request?.form?.['scope'], devOpsScope)
  })

  test('wrong options are refused for every host and operation (no request made); a valid configuration stays quiet elsewhere', async () => {
    sts.clearLog()
    const github = 'protocol=https\nhost=github.com\n\n'
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      [
        'get',
        ['--account', 'x', '--client-secret', 's'],
        {},
        /--account chooses a signed-in person/,
      ],
      ['store', ['--account', 'x'], { AZURE_CLIENT_SECRET: 's' }, /--account/],
      [
        'erase',
        ['--thumbprint', 'abcd'],
        {},
        /^msal-ts: conflicting_options: --thumbprint goes with/,
      ],
      ['get', ['--region', 'westus'], {}, /--region goes with a client credential/],
    ]
    for (const [operation, args, env, message] of cases) {
      const result = await run(home, ['git-credential', operation, ...common(), ...args], {
        input: github,
        env,
      })
      const what = `${operation} ${args.join(' ')}`
      assert.equal(result.exitCode, 2, `${what}: ${result.stderr}`)
      assert.equal(result.stdout, '', what)
      assert.match(result.stderr, /^msal-ts: conflicting_options: [^\n]+\n$/, what)
      assert.match(result.stderr, message, what)
    }
    const valid = await run(
      home,
      [
        'git-credential',
        'get',
        ...sts.cliArgs(sts.defaults.confidentialClientId),
        '--region',
        'westus',
      ],
      { input: github, env: { AZURE_CLIENT_SECRET: 's' } },
    )
    assert.equal(valid.exitCode, 0, valid.stderr)
    assert.equal(`${valid.stdout}${valid.stderr}`, '')
    assert.deepEqual(sts.log, [])
  })

  test('--region acts in the client credential mode: the token request goes to the regional host', async () => {
    const port = new URL(sts.url).port
    sts.clearLog()
    const result = await run(
      await tempDir(),
      [
        'git-credential',
        'get',
        '-c',
        sts.defaults.confidentialClientId,
        '-a',
        `https://localhost:${port}/${sts.tenantId}`,
        '--ca-file',
        sts.caFile,
        '--region',
        'westus2',
      ],
      {
        input: 'protocol=https\nhost=dev.azure.com\n\n',
        env: { AZURE_CLIENT_SECRET: sts.defaults.clientSecret },
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.ok(fields(result.stdout).get('password'))
    const [request] = sts.tokenRequests()
    assert.equal(request?.headers['host'], `westus2.localhost:${port}`)
    assert.equal(request?.form?.['scope'], devOpsScope)
  })

  test('a request git would never send is exit 2 in one line, with nothing on stdout', async () => {
    for (const input of [
      'protocol=https\nhost=dev.azure.com\rpassword=x\n\n',
      'protocol=https\nhost=dev.azure.com\0\n\n',
      'no equals sign\n\n',
      `protocol=https\nhost=dev.azure.com\npath=${'a'.repeat(70 * 1024)}\n\n`,
    ]) {
      const result = await helper(home, 'get', input)
      assert.equal(result.exitCode, 2, result.stderr)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^msal-ts: (invalid_request|input_too_large): [^\n]+\n$/)
      assertNoStack(result.stderr)
    }
    const stdinSecret = await helper(home, 'get', 'protocol=https\nhost=dev.azure.com\n\n', [
      '--client-secret-stdin',
    ])
    assert.equal(stdinSecret.exitCode, 2)
    assert.match(stdinSecret.stderr, /^msal-ts: conflicting_options: --client-secret-stdin/)
  })

  test("several accounts: exit 2 naming them (no prompt on git's pipe); --account chooses", async () => {
    const dir = await tempDir()
    const bob = { username: 'bob@contoso.onmicrosoft.com', password: 'bob password 1' }
    sts.addUser({ ...bob, name: 'Bob Example' })
    await login(dir)
    await login(dir, bob)
    const request = 'protocol=https\nhost=dev.azure.com\n\n'
    const ambiguous = await helper(dir, 'get', request)
    assert.equal(ambiguous.exitCode, 2)
    assert.equal(ambiguous.stdout, '')
    assert.match(ambiguous.stderr, /^msal-ts: several_accounts: .*--account/)
    const chosen = await helper(dir, 'get', request, ['--account', bob.username])
    assert.equal(chosen.exitCode, 0, chosen.stderr)
    assert.equal(fields(chosen.stdout).get('username'), bob.username)
    assert.equal(
      claimsOf(fields(chosen.stdout).get('password') ?? '')['preferred_username'],
      bob.username,
    )
  })

  test('--managed-identity (system- or user-assigned by --object-id / --mi-resource-id): a token for the Azure DevOps resource', async () => {
    const mi = await startManagedIdentityEndpoints()
    try {
      const dir = await tempDir()
      const cases: [string[], Record<string, string>][] = [
        [[], {}],
        [['--object-id', 'uami-object'], { object_id: 'uami-object' }],
        [
          ['--mi-resource-id', '/subscriptions/s/rg/r/uami'],
          { msi_res_id: '/subscriptions/s/rg/r/uami' },
        ],
      ]
      for (const [flags, selector] of cases) {
        const result = await run(dir, ['git-credential', 'get', '--managed-identity', ...flags], {
          input: 'protocol=https\nhost=dev.azure.com\n\n',
          env: mi.imdsEnv(),
        })
        assert.equal(result.exitCode, 0, result.stderr)
        assert.equal(fields(result.stdout).get('password'), mi.issued.at(-1))
        assert.deepEqual(mi.requests.at(-1)?.query, {
          'api-version': '2018-02-01',
          resource: devOps,
          ...selector,
        })
      }
    } finally {
      await mi.close()
    }
  })

  test('the identity provider failing: exit 1, one line, no password for git', async () => {
    const dir = await tempDir()
    await login(dir)
    sts.inject({ match: { path: '/oauth2/v2.0/token' }, status: 503, times: 2 })
    const result = await helper(dir, 'get', 'protocol=https\nhost=dev.azure.com\n\n')
    sts.clearFaults()
    assert.equal(result.exitCode, 1, result.stderr)
    assert.equal(result.stdout, '')
    assertNoStack(result.stderr)
    assert.match(result.stderr, /^msal-ts: [\w_]+: [^\n]+\n( {2}status \d+;[^\n]*\n)?$/)
  })
  test('a cached token git cannot carry (a space in it) is asked afresh once, not served or failed until it expires', async () => {
    const dir = await tempDir()
    await login(dir)
    const request = 'protocol=https\nhost=dev.azure.com\n\n'
    sts.inject({
      match: { path: '/oauth2/v2.0/token', grantType: 'refresh_token' },
      patch: { access_token: 'abc def' },
    })
    const spaced = await helper(dir, 'get', request)
    sts.clearFaults()
    assert.equal(spaced.exitCode, 1, spaced.stderr)
    assert.equal(spaced.stdout, '')
    assert.match(spaced.stderr, /^msal-ts: invalid_response: [^\n]*cannot carry\n$/)

    sts.clearLog()
    const fresh = await helper(dir, 'get', request)
    assert.equal(fresh.exitCode, 0, fresh.stderr)
    assert.equal(claimsOf(fields(fresh.stdout).get('password') ?? '')['aud'], devOps)
    assert.deepEqual(
      sts.tokenRequests().map((entry) => entry.form?.['grant_type']),
      ['refresh_token'],
    )
    sts.clearLog()
    const cached = await helper(dir, 'get', request)
    assert.equal(fields(cached.stdout).get('password'), fields(fresh.stdout).get('password'))
    assert.deepEqual(sts.tokenRequests(), [])
  })
})
