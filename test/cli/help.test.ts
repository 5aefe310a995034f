import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { run, tempDir } from './harness.js'

const commands = [
  'login',
  'token',
  'accounts',
  'logout',
  'auth-url',
  'redeem',
  'migrate-rt',
  'client-token',
  'serve',
  'git-credential',
]

test('--version prints the package version and exits 0', async () => {
  const { version } = JSON.parse(
    await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  const result = await run(await tempDir(), ['--version'])
  assert.equal(result.exitCode, 0)
  assert.equal(result.stdout, `${version}\n`)
})

test('--help lists every command and exits 0', async () => {
  const result = await run(await tempDir(), ['--help'])
  assert.equal(result.exitCode, 0)
  for (const command of commands) {
    assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'), command)
  }
})

test('every command has --help with its options, environment variables and examples', async () => {
  const home = await tempDir()
  for (const command of commands) {
    const result = await run(home, [command, '--help'])
    assert.equal(result.exitCode, 0, command)
    assert.match(result.stdout, new RegExp(`^Usage: msal-ts ${command} `), command)
    assert.match(result.stdout, /\[env:\s+MSAL_TS_CLIENT_ID,\s+AZURE_CLIENT_ID\]/, command)
    assert.match(result.stdout, /\nExamples:\n {2}\S/, command)
    assert.equal(result.stderr, '', command)
  }
  const viaHelp = await run(home, ['help', 'token'])
  assert.equal(viaHelp.exitCode, 0)
  assert.match(viaHelp.stdout, /--min-validity/)
})

test('--managed-identity names no variable as selecting it: AZURE_POD_IDENTITY_AUTHORITY_HOST only moves the IMDS host', async () => {
  const home = await tempDir()
  for (const command of ['client-token', 'serve', 'git-credential']) {
    const result = await run(home, [command, '--help'])
    assert.equal(result.exitCode, 0, command)
    const entry = /^ {2}--managed-identity\s+([^]*?)\n {2}-/m.exec(result.stdout)?.[1] ?? ''
    assert.match(
      entry,
      /VM\/IMDS, whose\s+host\s+AZURE_POD_IDENTITY_AUTHORITY_HOST\s+moves/,
      command,
    )
    assert.doesNotMatch(entry, /\[env:/, command)
  }
})

test('bare msal-ts prints the top-level help and exits 0', async () => {
  const home = await tempDir()
  const bare = await run(home, [])
  assert.equal(bare.exitCode, 0)
  assert.equal(bare.stderr, '')
  assert.equal(bare.stdout, (await run(home, ['--help'])).stdout)
  assert.match(bare.stdout, /^Usage: msal-ts /)
})

test('bare msal-ts config, a command group, prints its help and exits 0 as bare msal-ts does', async () => {
  const home = await tempDir()
  const bare = await run(home, ['config'])
  assert.equal(bare.exitCode, 0)
  assert.equal(bare.stderr, '')
  assert.equal(bare.stdout, (await run(home, ['config', '--help'])).stdout)
  assert.match(bare.stdout, /^Usage: msal-ts config /)
  // A misspelled subcommand is still a usage error.
  const typo = await run(home, ['config', 'sett', 'a', 'b'])
  assert.equal(typo.exitCode, 2)
  assert.match(typo.stderr, /^msal-ts: usage: unknown command 'sett'\n\(Did you mean set\?\)\n$/)
})

test('the top-level help has examples, the exit codes, and where to read more', async () => {
  const { stdout } = await run(await tempDir(), ['--help'])
  assert.match(stdout, /\nExamples:\n {2}# .+\n {2}msal-ts login /)
  const codes = /\nExit codes:\n((?: {2}.+\n)+)/.exec(stdout)?.[1] ?? ''
  assert.deepEqual(
    [...codes.matchAll(/^ {2}(\d+) /gm)].map((m) => m[1]),
    ['0', '1', '2', '3', '130'],
  )
  assert.match(stdout, /\nRun `msal-ts <command> --help` for more\.\n$/)
})

test('a misspelled command, also after help, gets the closest one suggested', async () => {
  const home = await tempDir()
  for (const args of [['tokn'], ['help', 'tokn']]) {
    const typo = await run(home, args)
    assert.equal(typo.exitCode, 2, args.join(' '))
    assert.equal(typo.stdout, '')
    assert.equal(typo.stderr, "msal-ts: usage: unknown command 'tokn'\n(Did you mean token?)\n")
  }
})

test('an option of other commands is named where it acts; a misspelled one gets the closest', async () => {
  const home = await tempDir()
  const cases: [string[], string][] = [
    // Not "Did you mean --version?": --region belongs to the app-token commands.
    [
      ['token', '--region', 'westus'],
      '--region acts only in client-token, serve and git-credential',
    ],
    [['login', '--region=westus'], '--region acts only in client-token, serve and git-credential'],
    [
      ['accounts', '--region', 'westus'],
      '--region acts only in client-token, serve and git-credential',
    ],
    [['token', '--scpe', 'User.Read'], 'Did you mean --scope?'],
  ]
  for (const [args, hint] of cases) {
    const result = await run(home, args)
    const flag = args.find((arg) => arg.startsWith('-')) ?? ''
    assert.equal(result.exitCode, 2, args.join(' '))
    assert.equal(result.stdout, '', args.join(' '))
    assert.equal(result.stderr, `msal-ts: usage: unknown option '${flag}'\n(${hint})\n`)
  }
})

/** The option names under each heading of a command's help. */
function optionGroups(help: string): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const [, heading, body] of help.matchAll(/^(\w[\w ]*):\n((?: {2}.*\n?)+)/gm)) {
    const names = [...(body ?? '').matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] ?? '')
    groups.set(heading ?? '', names)
  }
  return groups
}

test("a command's own options come first, then the shared ones under their own heading", async () => {
  const home = await tempDir()
  const token = await run(home, ['token', '--help'])
  const text = token.stdout
  assert.ok(text.indexOf('\nOptions:\n') < text.indexOf('\nShared options:\n'))
  const groups = optionGroups(text)
  const own = groups.get('Options') ?? []
  const shared = groups.get('Shared options') ?? []
  assert.ok(own.includes('--min-validity') && own.includes('--scope'), own.join(' '))
  assert.ok(!own.includes('--client-id'), 'shared options are not mixed in')
  assert.ok(shared.includes('--client-id') && shared.includes('--help'), shared.join(' '))
  // Only options that change what the command does: token requests no app token.
  assert.ok(!shared.includes('--region'))
  const accounts = optionGroups((await run(home, ['accounts', '--help'])).stdout)
  const accountsShared = accounts.get('Shared options') ?? []
  for (const idle of ['--proxy', '--app-name', '--capability', '--no-instance-discovery']) {
    assert.ok(!accountsShared.includes(idle), `accounts lists ${idle}`)
  }
  const clientToken = optionGroups((await run(home, ['client-token', '--help'])).stdout)
  assert.ok(clientToken.get('Shared options')?.includes('--region'))
})

test('--help groups the commands by job', async () => {
  const result = await run(await tempDir(), ['--help'])
  const groups = [...result.stdout.matchAll(/^(\w[\w ]*):\n((?: {2}.*\n?)+)/gm)].map(
    ([, heading, body]) => [heading, [...(body ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1])],
  )
  assert.deepEqual(groups.slice(0, 7), [
    ['Options', ['-V,', '-h,']],
    ['Sign in', ['login']],
    ['Tokens', ['token', 'client-token']],
    ['Accounts', ['accounts', 'logout']],
    ['Web apps', ['auth-url', 'redeem', 'migrate-rt']],
    ['Tools for other programs', ['serve', 'decode', 'git-credential']],
    ['Helpers', ['config', 'completion', 'help']],
  ])
})

test('the helpers have help with examples too', async () => {
  const home = await tempDir()
  for (const command of ['config', 'completion', 'decode']) {
    const result = await run(home, [command, '--help'])
    assert.equal(result.exitCode, 0, command)
    assert.match(result.stdout, new RegExp(`^Usage: msal-ts ${command} `), command)
    assert.match(result.stdout, /\nExamples:\n {2}\S/, command)
  }
})

test('a repeatable option says so, without an empty list for a default', async () => {
  const home = await tempDir()
  for (const command of ['token', 'client-token', 'serve', 'git-credential', 'login']) {
    const help = await run(home, [command, '--help'])
    assert.equal(help.exitCode, 0)
    assert.match(help.stdout, /\(repeatable/, command)
    assert.doesNotMatch(help.stdout, /default: \[\]/, command)
  }
})
