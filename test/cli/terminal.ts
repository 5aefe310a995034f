/** A real terminal for tests of what a person sees: a tmux pane. */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import { bin } from './harness.js'

/** A command in a real terminal: a tmux pane whose screen the test reads and types into. */
export class Terminal {
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

  /** The screen with the escape sequences that styled it (colours, bold), to check for colour. */
  async styledScreen(): Promise<string> {
    return (await this.tmux('capture-pane', '-p', '-e')).stdout
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

  /** The title the command's output gave the pane (escape sequences set it). */
  async title(): Promise<string> {
    return (await this.tmux('display-message', '-p', '#{pane_title}')).stdout
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
