import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { execa } from 'execa'
import { startSts, type Sts } from '../fixtures/sts/index.js'
import { bin, run, tempDir } from './harness.js'

const scope = 'https://graph.microsoft.com/User.Read'
const bob = { username: 'bob@contoso.onmicrosoft.com', password: 'bob password' }

/** A command in a real terminal: a tmux pane whose screen the test reads and types into. */
class Terminal {
  private readonly dir: string
  private readonly socket: string

  constructor(dir: string) {
    this.dir = dir
    this.socket = join(dir, 'tmux.sock')
  }

  /** Starts `msal-ts <args>` in a fresh pane; stdout goes to a file, the exit code to another. */
  async start(args: string[], env: Record<string, string>): Promise<void> {
    const exports = Object.entries(env)
      .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
      .join('')
    const script = join(this.dir, 'run.sh')
    await writeFile(
      script,
      `${exports}${[bin, ...args].map(shellQuote).join(' ')} > ${this.dir}/stdout; echo $? > ${this.dir}/rc\nsleep 600\n`,
    )
    await execa('rm', ['-f', join(this.dir, 'rc')])
    await this.tmux('new-session', '-d', '-x', '160', '-y', '40', 'sh', script)
  }

  async screen(): Promise<string> {
    return (await this.tmux('capture-pane', '-p')).stdout
  }

  /** Waits until the screen shows what the command is asking. */
  async waitFor(pattern: RegExp): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const screen = await this.screen()
      if (pattern.test(screen)) {
        return screen
      }
      await sleep(100)
    }
    throw new Error(`the terminal never showed ${String(pattern)}:\n${await this.screen()}`)
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', ...keys)
  }

  /** The exit code and stdout once the command ends; the pane is closed. */
  async finished(): Promise<{ exitCode: number; stdout: string }> {
    for (let i = 0; i < 300; i++) {
      const rc = await readFile(join(this.dir, 'rc'), 'utf8').catch(() => '')
      if (rc.trim() !== '') {
        await this.tmux('kill-server')
        return { exitCode: Number(rc), stdout: await readFile(join(this.dir, 'stdout'), 'utf8') }
      }
      await sleep(100)
    }
    throw new Error(`the command never ended:\n${await this.screen()}`)
  }

  private tmux(...args: string[]) {
    return execa('tmux', ['-S', this.socket, ...args], { env: { TERM: 'xterm-256color' } })
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

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

  test('logout asks to confirm on a terminal: n keeps the account, y signs it out', async () => {
    await signIn(bob)
    const terminal = new Terminal(await tempDir())
    await terminal.start(['logout', ...base, '--account', bob.username], env)
    await terminal.waitFor(new RegExp(`Sign out ${bob.username}\\?`))
    await terminal.keys('n', 'Enter')
    const declined = await terminal.finished()
    assert.equal(declined.exitCode, 130)
    const accounts = async () =>
      (
        JSON.parse(
          (
            await run(home, ['accounts', ...base, '-o', 'json'], {
              env: { MSAL_TS_CACHE_DIR: env['MSAL_TS_CACHE_DIR'] },
            })
          ).stdout,
        ) as { username: string }[]
      ).map((a) => a.username)
    assert.ok((await accounts()).includes(bob.username))

    await terminal.start(['logout', ...base, '--account', bob.username], env)
    await terminal.waitFor(new RegExp(`Sign out ${bob.username}\\?`))
    await terminal.keys('y', 'Enter')
    const confirmed = await terminal.finished()
    assert.equal(confirmed.exitCode, 0)
    assert.ok(!(await accounts()).includes(bob.username))
  })
})
