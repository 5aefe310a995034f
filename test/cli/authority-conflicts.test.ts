/**
 * Two options on one command line where one would be dropped are refused on every command (cli.md:
 * nothing accepted is silently ignored): two authorities, or --no-cache beside a cache option. -t
 * with --cloud combines, and an option beating the environment or a profile is precedence, not a
 * conflict; with --no-cache the cache settings of the environment and a profile are not used.
 */
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort } from '../fixtures/loopback-server.js'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { assertNoStack, run, tempDir } from './harness.js'

const devOpsRequest = 'protocol=https\nhost=dev.azure.com\n\n'
const graph = 'https://graph.microsoft.com/.default'

describe('conflicting options', () => {
  let sts: Sts
  let home: string
  /** Where the --no-cache cases point their cache options: nothing may appear there. */
  let cacheHome: string

  before(async () => {
    sts = await startSts()
    home = await tempDir()
    cacheHome = await tempDir()
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

  interface Command {
    args: string[]
    input?: string
    env?: Record<string, string>
  }

  /** Each command with what it needs to run, the authority options left to the case. */
  const commands = (): Command[] => {
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

  /** Runs each command with each set of options: refused (exit 2), one line naming the conflict. */
  async function assertRefused(
    cases: readonly Command[],
    optionSets: (command: Command) => { options: string[]; names: RegExp }[],
  ): Promise<void> {
    const before = sts.log.length
    for (const command of cases) {
      await Promise.all(
        optionSets(command).map(async ({ options, names }) => {
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
  }

  test('every command refuses two options naming the authority, naming both', async () => {
    await assertRefused(commands(), pairs)
  })

  /** The cache options a command takes beside --no-cache; auth-url keeps no Redis cache. */
  const cacheOptions = (command: Command) => [
    { options: ['--cache-file', join(cacheHome, 't.json')], names: /--no-cache and --cache-file/ },
    { options: ['--cache-dir', join(cacheHome, 'c')], names: /--no-cache and --cache-dir/ },
    ...(command.args[0] === 'auth-url'
      ? []
      : [
          {
            options: ['--cache-url', 'redis://127.0.0.1:1/0'],
            names: /--no-cache and --cache-url/,
          },
        ]),
  ]

  test('every command taking --no-cache refuses a cache option beside it, naming both', async () => {
    // accounts and logout act on the real cache and take no --no-cache.
    const taking = commands().filter(({ args }) => !['accounts', 'logout'].includes(args[0] ?? ''))
    await assertRefused(taking, (command) =>
      cacheOptions(command).map(({ options, names }) => ({
        options: ['--no-cache', ...options],
        names,
      })),
    )
    assert.deepEqual(await readdir(cacheHome), [], 'no cache written')
  })

  test('--no-cache names every cache option given beside it in its one line', async () => {
    const result = await run(home, [
      ...['client-token', '-c', sts.defaults.confidentialClientId, '-s', graph],
      ...['--cache-dir', join(cacheHome, 'c'), '--no-cache', '--cache-file', 't.json'],
    ])
    assert.equal(result.exitCode, 2, result.stderr)
    assert.match(
      result.stderr,
      /^msal-ts: conflicting_options: --no-cache and --cache-file, --cache-dir cannot be used together: [^\n]+\n$/,
    )
  })

  test('with --no-cache the cache settings of the environment and a profile are not used', async () => {
    const own = await tempDir()
    const config = await run(own, ['config', 'set', 'cache-dir', join(own, 'profile-cache')])
    assert.equal(config.exitCode, 0, config.stderr)
    const before = await readdir(own)
    // Nothing listens on this port: a Redis cache in use would warn that it is not usable.
    const unused = `redis://127.0.0.1:${await freePort()}/0`
    sts.clearLog()
    const result = await run(
      own,
      [
        ...['client-token', '-c', sts.defaults.confidentialClientId, '-a', sts.authority()],
        ...['--ca-file', sts.caFile, '-s', graph, '--no-cache'],
      ],
      {
        env: {
          AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
          MSAL_TS_CACHE_URL: unused,
          MSAL_TS_CACHE_FILE: join(own, 'env-tokens.json'),
        },
      },
    )
    assert.equal(result.exitCode, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.match(result.stdout, /^eyJ/)
    assert.equal(sts.tokenRequests().length, 1)
    assert.deepEqual(await readdir(own), before, 'no cache file written anywhere')
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
    // MSAL_TS_AUTHORITY's tenant beats AZURE_TENANT_ID, as the URL itself does without --cloud.
    const url = await authorizeUrlOnCloud([], {
      ...env,
      MSAL_TS_AUTHORITY: `https://login.microsoftonline.com/${sts.tenantId}`,
      AZURE_TENANT_ID: 'contoso',
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
  test('MSAL_TS_OIDC_AUTHORITY and MSAL_TS_AUTHORITY together are refused, as the two options are', async () => {
    const result = await run(
      home,
      ['token', '-c', sts.defaults.publicClientId, '-s', 'User.Read'],
      {
        env: {
          MSAL_TS_OIDC_AUTHORITY: 'https://idp.example.com',
          MSAL_TS_AUTHORITY: sts.authority(),
        },
      },
    )
    assert.equal(result.exitCode, 2)
    assert.equal(result.stdout, '')
    assert.match(
      result.stderr,
      /^msal-ts: conflicting_options: MSAL_TS_OIDC_AUTHORITY and MSAL_TS_AUTHORITY cannot both be set/,
    )
  })
})
