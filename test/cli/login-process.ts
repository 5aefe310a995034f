/**
 * Helpers for the `msal-ts login` tests: a login process whose stderr is read while it runs (to
 * pick up the sign-in URL it prints), the token cache file it writes, and a client that plays the
 * browser's part of the redirect without a browser.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { Agent, fetch, type Response } from 'undici'
import type { Sts } from '../fixtures/sts/index.js'
import { bin, cliEnv, type CliResult } from './harness.js'

/**
 * stderr after the sentence `login --no-browser` prints before its URL (what to do with it, the
 * port, the SSH forward), which login-loopback.test.ts checks word for word.
 */
export function afterAdvice(stderr: string): string {
  return stderr.replace(/^Open this URL in a browser to sign in\b.*\n/, '')
}

export interface LoginProcess {
  /** The sign-in URL, once msal-ts has printed it alone on its own line of stderr. */
  readonly url: Promise<URL>
  /** The first line of stderr that matches, once it has been printed. */
  line(pattern: RegExp): Promise<string>
  /** Everything on stderr so far. */
  stderr(): string
  /** Sends a signal to the process, as Ctrl-C (SIGINT) in a terminal would. */
  kill(signal: NodeJS.Signals): void
  /** How the process ended. */
  readonly done: Promise<CliResult>
}

/** Starts `msal-ts <args>` (stdin not a terminal) and follows its stderr while it runs. */
export function startLogin(
  home: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): LoginProcess {
  const child = execa(bin, [...args], {
    env: cliEnv(home, env),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    stdin: 'ignore',
    timeout: 60_000,
  })
  let stderr = ''
  let ended = false
  const waiters = new Set<() => void>()
  let resolveUrl!: (url: URL) => void
  let rejectUrl!: (error: Error) => void
  const url = new Promise<URL>((resolve, reject) => {
    resolveUrl = resolve
    rejectUrl = reject
  })
  url.catch(() => undefined)
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
    const line = /^(https?:\/\/\S+)\n/m.exec(stderr)
    if (line?.[1] !== undefined) {
      resolveUrl(new URL(line[1]))
    }
    for (const check of waiters) {
      check()
    }
  })
  const done = child.then((result) => {
    ended = true
    for (const check of waiters) {
      check()
    }
    rejectUrl(new Error(`msal-ts exited ${String(result.exitCode)} without a URL:\n${stderr}`))
    return {
      exitCode: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
    }
  })
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = stderr.split('\n').find((text) => pattern.test(text))
        if (found !== undefined) {
          waiters.delete(check)
          resolve(found)
        } else if (ended) {
          waiters.delete(check)
          reject(new Error(`msal-ts exited without printing ${String(pattern)}:\n${stderr}`))
        }
      }
      waiters.add(check)
      check()
    })
  return {
    url,
    line,
    stderr: () => stderr,
    kill: (signal) => void child.kill(signal),
    done,
  }
}

/** The arguments every login test passes: the public client, the STS authority and its CA. */
export function stsArgs(sts: Sts): string[] {
  return sts.cliArgs(sts.defaults.publicClientId)
}

export interface TokenCacheFile {
  Account?: Record<string, Record<string, unknown>>
  AccessToken?: Record<string, Record<string, unknown>>
  RefreshToken?: Record<string, Record<string, unknown>>
  IdToken?: Record<string, Record<string, unknown>>
  AppMetadata?: Record<string, Record<string, unknown>>
}

/** The token cache file msal-ts keeps in the test's cache dir, or undefined when there is none. */
export async function tokenCacheFile(home: string): Promise<string | undefined> {
  const dir = join(home, 'cache')
  const names = await readdir(dir).catch(() => [] as string[])
  const files = names.filter((name) => /^token-cache\..+\.json$/.test(name))
  if (files.length > 1) {
    throw new Error(`several token cache files: ${files.join(', ')}`)
  }
  return files[0] === undefined ? undefined : join(dir, files[0])
}

export async function readTokenCache(home: string): Promise<TokenCacheFile | undefined> {
  const file = await tokenCacheFile(home)
  return file === undefined
    ? undefined
    : (JSON.parse(await readFile(file, 'utf8')) as TokenCacheFile)
}

/** How many entries of each kind the cache holds (0 for a missing file). */
export function entryCounts(cache: TokenCacheFile | undefined): Record<string, number> {
  const count = (section: Record<string, unknown> | undefined) => Object.keys(section ?? {}).length
  return {
    Account: count(cache?.Account),
    AccessToken: count(cache?.AccessToken),
    RefreshToken: count(cache?.RefreshToken),
    IdToken: count(cache?.IdToken),
  }
}

/** An HTTP client that trusts the STS's test CA, standing in for the browser. */
export function browserlessClient(sts: Sts) {
  const agent = new Agent({ connect: { ca: sts.caPem } })
  return {
    /** One request, redirects not followed. */
    get: (url: URL | string): Promise<Response> =>
      fetch(url, { dispatcher: agent, redirect: 'manual' }),
    /** The authorize URL with the STS in `auto` mode: the redirect it answers with. */
    async authorize(url: URL): Promise<URL> {
      const response = await fetch(url, { dispatcher: agent, redirect: 'manual' })
      await response.body?.cancel()
      const location = response.headers.get('location')
      if (response.status !== 302 || location === null) {
        throw new Error(`the STS answered ${response.status} without a redirect`)
      }
      return new URL(location)
    },
    close: () => agent.close(),
  }
}
