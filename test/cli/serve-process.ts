/**
 * Helpers for the `msal-ts serve` tests: a serve process whose stdout ends once it has printed the
 * endpoint (while it goes on serving), and raw requests to it as an SDK, or something hostile, sends.
 */
import { request as httpRequest } from 'node:http'
import { execa } from 'execa'
import { bin, cliEnv, type CliResult } from './harness.js'

export interface ServeProcess {
  /** What stdout held when it ended: the `export` lines or the JSON object. */
  readonly stdout: string
  readonly endpoint: string
  readonly secret: string
  /** Everything on stderr so far. */
  stderr(): string
  kill(signal: NodeJS.Signals): void
  /** How the process ended. */
  readonly done: Promise<CliResult & { signal?: string }>
}

/**
 * Starts `msal-ts serve <args>` and resolves once its stdout has ended; rejects with its stderr
 * when it exits before that.
 */
export async function startServe(
  home: string,
  args: readonly string[],
  { env = {}, input }: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<ServeProcess> {
  const child = execa(bin, ['serve', ...args], {
    env: cliEnv(home, env),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(input === undefined ? { stdin: 'ignore' } : { input }),
    timeout: 120_000,
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
  })
  let stdout = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
  })
  const done = child.then((result) => ({
    exitCode: result.exitCode ?? -1,
    stdout,
    stderr,
    ...(result.signal ? { signal: result.signal } : {}),
  }))
  // Ready once stdout has ended and the line for people is on stderr: pipes keep no order between them.
  const ended = new Promise<void>((resolve) => {
    child.stdout.once('end', () => {
      const check = () => {
        if (/^Serving tokens of /m.test(stderr)) {
          child.stderr.off('data', check)
          resolve()
        }
      }
      child.stderr.on('data', check)
      check()
    })
  })
  const outcome = await Promise.race([ended.then(() => 'ready' as const), done])
  if (outcome !== 'ready' || stdout === '') {
    const result = await done
    throw new Error(`serve exited ${result.exitCode}: ${result.stderr}`)
  }
  const variables = parseExports(stdout)
  return {
    stdout,
    endpoint: variables['IDENTITY_ENDPOINT'] ?? '',
    secret: variables['IDENTITY_HEADER'] ?? '',
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
    done,
  }
}

/** The `export NAME='value'` lines as a shell reads them, or the JSON object. */
export function parseExports(text: string): Record<string, string> {
  if (text.startsWith('{')) {
    return JSON.parse(text) as Record<string, string>
  }
  const variables: Record<string, string> = {}
  for (const line of text.split('\n').filter(Boolean)) {
    const match = /^export ([A-Z_]+)='([^']*)'$/.exec(line)
    if (!match?.[1] || match[2] === undefined) {
      throw new Error(`not an export line: ${JSON.stringify(line)}`)
    }
    variables[match[1]] = match[2]
  }
  return variables
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A request as the SDKs make it, with whatever the test changes. */
export function ask(
  serve: { endpoint: string; secret: string },
  {
    resource = 'https://vault.azure.net',
    query,
    method = 'GET',
    headers = {},
  }: {
    resource?: string
    /** Replaces the whole query. */
    query?: string
    method?: string
    headers?: Record<string, string>
  } = {},
): Promise<Answer> {
  const url = new URL(serve.endpoint)
  const search = query ?? `?resource=${encodeURIComponent(resource)}&api-version=2019-08-01`
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${search}`,
        method,
        headers: { 'X-IDENTITY-HEADER': serve.secret, ...headers },
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}
