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

test('no command, or a misspelled one, is a usage error that points the way', async () => {
  const home = await tempDir()
  const bare = await run(home, [])
  assert.equal(bare.exitCode, 2)
  assert.equal(bare.stdout, '')
  assert.match(bare.stderr, /^Usage: msal-ts /)
  const typo = await run(home, ['tokn'])
  assert.equal(typo.exitCode, 2)
  assert.equal(typo.stderr, "msal-ts: usage: unknown command 'tokn'\n(Did you mean token?)\n")
})

test('--help groups the commands by job', async () => {
  const result = await run(await tempDir(), ['--help'])
  const groups = [...result.stdout.matchAll(/^(\w[\w ]*):\n((?: {2}.*\n?)+)/gm)].map(
    ([, heading, body]) => [heading, [...(body ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1])],
  )
  assert.deepEqual(groups, [
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
