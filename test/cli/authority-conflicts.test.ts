/**
 * Two authority options on one command line where one would be dropped are refused on every
 * command (cli.md: nothing accepted is silently ignored); -t with --cloud combines, and an option
 * beating the environment or a profile is precedence, not a conflict.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

const devOpsRequest = 'protocol=https\nhost=dev.azure.com\n\n'

describe('conflicting authority options', () => {
  let sts: Sts
  let home: string

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    // Signed in, so `token` meets the cached fast path, which would otherwise answer.
    const login = await run(
      home,
      [...signIn(), '--username', sts.defaults.username, '--password-stdin', '-s', 'User.Read'],
      { input: sts.defaults.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
  })
  after(() => sts.close())

  function signIn(): string[] {
    return [
      'login',
      '-c',
      sts.defaults.publicClientId,
      '-a',
      sts.authority(),
      '--ca-file',
      sts.caFile,
    ]
  }

  /** Each command with what it needs to run, the authority options left to the case. */
  const commands = (): { args: string[]; input?: string; env?: Record<string, string> }[] => {
    const client = ['-c', sts.defaults.publicClientId]
    return [
      { args: ['token', ...client, '-s', 'User.Read', '--ca-file', sts.caFile] },
      { args: ['login', ...client, '--device-code', '-s', 'User.Read', '--ca-file', sts.caFile] },
      { args: ['accounts', ...client] },
      { args: ['logout', ...client, '--all', '--yes'] },
      { args: ['auth-url', ...client, '-s', 'User.Read'] },
      { args: ['redeem', ...client, '--code', 'abc', '-s', 'User.Read', '--ca-file', sts.caFile] },
      {
        args: ['migrate-rt', ...client, '-s', 'User.Read', '--refresh-token-stdin'],
        input: 'rt',
      },
      {
        args: ['client-token', ...client, '-s', 'https://graph.microsoft.com/.default'],
        env: { AZURE_CLIENT_SECRET: 'a secret' },
      },
      { args: ['serve', ...client, '--ca-file', sts.caFile] },
      { args: ['git-credential', 'get', ...client], input: devOpsRequest },
    ]
  }

  const pairs = (): { options: string[]; names: RegExp }[] => [
    { options: ['-a', sts.authority(), '-t', 'contoso'], names: /--authority and --tenant/ },
    { options: ['-a', sts.authority(), '--cloud', 'usgov'], names: /--authority and --cloud/ },
    {
      options: ['--oidc-authority', sts.authority(), '-a', sts.authority()],
      names: /--oidc-authority and --authority/,
    },
    {
      options: ['--oidc-authority', sts.authority(), '-t', 'contoso'],
      names: /--oidc-authority and --tenant/,
    },
    {
      options: ['--oidc-authority', sts.authority(), '--cloud', sts.url],
      names: /--oidc-authority and --cloud/,
    },
  ]

  test('every command refuses two options naming the authority, naming both', async () => {
    const before = sts.log.length
    for (const command of commands()) {
      await Promise.all(
        pairs().map(async ({ options, names }) => {
          const what = `${command.args[0]} ${options.join(' ')}`
          const result = await run(home, [...command.args, ...options], {
            ...(command.input === undefined ? {} : { input: command.input }),
            ...(command.env === undefined ? {} : { env: command.env }),
          })
          assert.equal(result.exitCode, 2, `${what}: ${result.stderr}`)
          assert.equal(result.stdout, '', what)
          assert.match(result.stderr, /^msal-ts: conflicting_options: [^\n]+\n$/, what)
          assert.match(result.stderr, names, what)
          assertNoStack(result.stderr)
        }),
      )
    }
    assert.deepEqual(sts.log.slice(before), [], 'nothing was sent to the identity provider')
  })

  /** The authorization endpoint auth-url prints with --cloud on the STS and these options. */
  async function authorizeUrlOnCloud(args: string[], env: Record<string, string> = {}) {
    const result = await run(
      home,
      [
        ...['auth-url', '-c', sts.defaults.publicClientId, '--cloud', sts.url, ...args],
        ...['--no-validate-authority', '--ca-file', sts.caFile, '-s', 'User.Read'],
      ],
      { env },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    return result.stdout.split('?', 1)[0]
  }

  test('-t with --cloud combines into one authority', async () => {
    const url = await authorizeUrlOnCloud(['-t', sts.tenantId])
    assert.equal(url, `${sts.authority()}/oauth2/v2.0/authorize`)
  })

  test('--cloud beats an authority from the environment or a profile, on their tenant', async () => {
    const env = { MSAL_TS_CONFIG_DIR: await tempDir() }
    const set = await run(home, ['config', 'set', 'oidc-authority', 'https://idp.example.com'], {
      env,
    })
    assert.equal(set.exitCode, 0, set.stderr)
    const url = await authorizeUrlOnCloud([], {
      ...env,
      MSAL_TS_AUTHORITY: 'https://login.microsoftonline.com/contoso',
      AZURE_TENANT_ID: sts.tenantId,
    })
    assert.equal(url, `${sts.authority()}/oauth2/v2.0/authorize`)
  })

  test('--cloud moves an authority from the environment to its cloud with the same tenant', async () => {
    const url = await authorizeUrlOnCloud([], {
      MSAL_TS_AUTHORITY: `https://login.microsoftonline.com/${sts.tenantId}`,
    })
    assert.equal(url, `${sts.authority()}/oauth2/v2.0/authorize`)
  })

  test('an option beats an authority from the environment instead of conflicting with it', async () => {
    const result = await run(
      home,
      ['token', '-c', sts.defaults.publicClientId, '-a', sts.authority(), '-s', 'User.Read'],
      {
        env: {
          AZURE_TENANT_ID: 'contoso',
          AZURE_AUTHORITY_HOST: 'usgov',
          MSAL_TS_OIDC_AUTHORITY: 'https://idp.example.com',
          MSAL_TS_CA_FILE: sts.caFile,
        },
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.match(result.stdout, /^\S+\n$/)
  })
})
