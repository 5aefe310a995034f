import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { startSts, type Sts } from '../test/fixtures/sts/index.js'
import { type Finished, runProcess } from './processes.js'

export const bin = resolve(import.meta.dirname, '../bin/msal-ts')
export const userScope = 'https://graph.microsoft.com/User.Read'
export const appScope = 'https://graph.microsoft.com/.default'

/** The loopback STS, a scratch directory, and the clean environment every child process gets. */
export interface Workspace {
  sts: Sts
  dir: string
  /** Only PATH, HOME and TMPDIR: nothing from this machine's Azure, msal-ts or CA variables leaks in. */
  env: Record<string, string>
  /** `-c <public client> -a <authority> --ca-file <ca>` */
  publicArgs: string[]
  msalTs(
    args: readonly string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<Finished>
  /** Signs the default user in with the password grant, into this token cache file. */
  login(cacheFile: string): Promise<void>
  close(): Promise<void>
}

export async function openWorkspace(): Promise<Workspace> {
  const sts = await startSts()
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-bench-'))
  // The node that runs the benchmark is the one every `node` and `#!/usr/bin/env node` gets.
  // The bench's own temporary directory, where Node 20's compile cache of msal-ts is kept between
  // runs (as it is in a user's), apart from the machine's.
  const temporary = join(dir, 'tmp')
  await mkdir(temporary)
  const env = {
    PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    HOME: dir,
    TMPDIR: temporary,
  }
  const publicArgs = sts.cliArgs(sts.defaults.publicClientId)
  const msalTs: Workspace['msalTs'] = (args, options = {}) =>
    runProcess(bin, args, {
      env: { ...env, ...options.env },
      ...(options.input !== undefined ? { input: options.input } : {}),
    })
  return {
    sts,
    dir,
    env,
    publicArgs,
    msalTs,
    async login(cacheFile) {
      const result = await msalTs(
        [
          'login',
          ...publicArgs,
          '--cache-file',
          cacheFile,
          '--username',
          sts.defaults.username,
          '--password-stdin',
          '--scope',
          userScope,
        ],
        { input: sts.defaults.password },
      )
      if (result.code !== 0) {
        throw new Error(`msal-ts login failed (${result.code}): ${result.stderr}`)
      }
    },
    async close() {
      await sts.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
