import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { withoutCaFile, run, tempDir } from './harness.js'
import { Terminal } from './terminal.js'

const scope = 'https://graph.microsoft.com/User.Read'
/** Where a colour or style begins. */
const escape = '\u001b['
const bob = { username: 'bob@contoso.onmicrosoft.com', password: 'bob password' }

describe('prompts on a terminal (tmux)', () => {
  let sts: Sts
  let home: string
  let base: string[]
  let env: Record<string, string>

  before(async () => {
    sts = await startSts()
    sts.addUser({ ...bob, name: 'Bob Example' })
    home = await tempDir()
    base = sts.cliArgs(sts.defaults.publicClientId)
    env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      MSAL_TS_CACHE_DIR: join(home, 'cache'),
      TERM: 'xterm-256color',
    }
  })
  after(() => sts.close())

  async function signIn(user: { username: string; password: string }): Promise<void> {
    const login = await run(
      home,
      ['login', ...base, '--username', user.username, '--password-stdin', '--scope', scope],
      { env: { MSAL_TS_CACHE_DIR: env['MSAL_TS_CACHE_DIR'] }, input: user.password },
    )
    assert.equal(login.exitCode, 0, login.stderr)
  }

  test('token with several accounts asks which one: arrow keys and Enter choose', async () => {
    await signIn(sts.defaults)
    await signIn(bob)
    // Without a terminal it never asks: exit 2, naming the accounts.
    const piped = await run(home, ['token', ...base, '--scope', scope], {
      env: { MSAL_TS_CACHE_DIR: env['MSAL_TS_CACHE_DIR'] },
    })
    assert.equal(piped.exitCode, 2)
    assert.match(piped.stderr, /^msal-ts: several_accounts: several accounts are signed in/)

    const terminal = new Terminal(await tempDir())
    await terminal.start(['token', ...base, '--scope', scope, '-o', 'json'], env)
    const screen = await terminal.waitFor(/Which account\?/)
    assert.match(screen, new RegExp(`${sts.defaults.username}[\\s\\S]*${bob.username}`))
    const first = screen.split('\n').findIndex((line) => line.includes(sts.defaults.username))
    const second = screen.split('\n').findIndex((line) => line.includes(bob.username))
    await terminal.keys(first < second ? 'Down' : 'Up')
    await terminal.keys('Enter')
    const { exitCode, stdout } = await terminal.finished()
    assert.equal(exitCode, 0)
    const doc = JSON.parse(stdout) as { account: { username: string } }
    assert.equal(doc.account.username, bob.username)
  })

  test('logout asks to confirm on a terminal: n keeps the account (exit 1), y signs it out', async () => {
    await signIn(bob)
    const terminal = new Terminal(await tempDir())
    await terminal.start(['logout', ...withoutCaFile(base), '--account', bob.username], env)
    await terminal.waitFor(new RegExp(`Sign out ${bob.username}\\?`))
    // Colour on a terminal, the prompt's own included.
    assert.ok((await terminal.styledScreen()).includes(escape))
    await terminal.keys('n', 'Enter')
    const declined = await terminal.finished()
    // Declining is not done (not 0) but no interruption either: 130 is Ctrl-C's (cli.md).
    assert.equal(declined.exitCode, 1)
    assert.equal(declined.stdout, '')
    const accounts = async () =>
      (
        JSON.parse(
          (
            await run(home, ['accounts', ...withoutCaFile(base), '-o', 'json'], {
              env: { MSAL_TS_CACHE_DIR: env['MSAL_TS_CACHE_DIR'] },
            })
          ).stdout,
        ) as { username: string }[]
      ).map((a) => a.username)
    assert.ok((await accounts()).includes(bob.username))

    await terminal.start(['logout', ...withoutCaFile(base), '--account', bob.username], env)
    await terminal.waitFor(new RegExp(`Sign out ${bob.username}\\?`))
    await terminal.keys('y', 'Enter')
    const confirmed = await terminal.finished()
    assert.equal(confirmed.exitCode, 0)
    assert.ok(!(await accounts()).includes(bob.username))
  })

  test('--no-color takes the colour out of the prompt too; declining is one plain line', async () => {
    await signIn(bob)
    const terminal = new Terminal(await tempDir())
    await terminal.start(
      ['logout', ...withoutCaFile(base), '--account', bob.username, '--no-color'],
      env,
    )
    await terminal.waitFor(new RegExp(`Sign out ${bob.username}\\?`))
    assert.ok(!(await terminal.styledScreen()).includes(escape))
    await terminal.keys('n', 'Enter')
    await terminal.waitFor(/msal-ts: declined/)
    const screen = await terminal.styledScreen()
    const declined = await terminal.finished()
    assert.equal(declined.exitCode, 1)
    assert.ok(!screen.includes(escape))
    assert.match(screen, /^msal-ts: declined: not signed out: nothing removed$/m)
  })
})
