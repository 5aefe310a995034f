import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after } from 'node:test'
import { execa } from 'execa'

export const bin = resolve(import.meta.dirname, '../../bin/msal-ts')

export interface RunOptions {
  env?: Record<string, string | undefined>
  input?: string
  /** Run as this user (and its group of the same number); only root can ask. */
  uid?: number
  /** Another copy of the binary, e.g. one installed from the package. */
  bin?: string
  /** The working directory; the test runner's own otherwise. */
  cwd?: string
}

/**
 * Runs the built binary as a user would, with a clean environment: nothing from the machine's
 * Azure or msal-ts variables leaks in, and HOME and the cache dir are the test's own.
 */
export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

export async function run(
  home: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  const env = cliEnv(home, options.env)
  const result = await execa(options.bin ?? bin, [...args], {
    env,
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    timeout: 60_000,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  }
}

/** A user's environment for msal-ts and nothing else: HOME and the cache dir are the test's own. */
export function cliEnv(
  home: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    MSAL_TS_CACHE_DIR: join(home, 'cache'),
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) {
      delete env[name]
    } else {
      env[name] = value
    }
  }
  return env
}

const tempDirs: string[] = []
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))))

/** A fresh directory, removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-test-'))
  tempDirs.push(dir)
  return dir
}

/** The environment for reference implementations: the machine's CA variables would override their `verify`. */
export function cleanEnv(home: string): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home }
}

/** One line per message, never a stack trace. */
export function assertNoStack(stderr: string): void {
  if (/\n\s+at .+:\d+:\d+\)?$/m.test(stderr)) {
    throw new Error(`stack trace on stderr:\n${stderr}`)
  }
}

/**
 * The arguments with --ca-file and its value taken out: for accounts and logout, which make no
 * TLS connection and so refuse --ca-file without a Redis cache, and beside --insecure, which
 * refuses a CA file it could not use.
 */
export function withoutCaFile(args: readonly string[]): string[] {
  const at = args.indexOf('--ca-file')
  return at === -1 ? [...args] : [...args.slice(0, at), ...args.slice(at + 2)]
}

/**
 * Runs the binary with module-trace.cjs preloaded: the result, and every module the process
 * required (a dependency bundled under dist/vendor/ under its package name as well).
 */
export async function runTracingModules(
  home: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult & { modules: string[] }> {
  const log = join(home, `modules-${Math.random()}.log`)
  const result = await run(home, args, {
    ...options,
    env: {
      ...options.env,
      NODE_OPTIONS: `--require ${join(import.meta.dirname, 'module-trace.cjs')}`,
      MSAL_TS_TEST_MODULE_LOG: log,
    },
  })
  const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
  return { ...result, modules }
}
