import type { Readable, Writable } from 'node:stream'

/** The process's streams, passed to commands so they never reach for globals. */
export interface Io {
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  /** Aborted on Ctrl-C: long waits (browser, device code, prompts) end with exit 130. */
  signal?: AbortSignal
}

export function processIo(signal?: AbortSignal): Io {
  return {
    // Node builds process.stdin on first use, which loads its stream and fs machinery: a cached
    // `token` never reads stdin, so it does not pay for that.
    get stdin() {
      return process.stdin
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    ...(signal ? { signal } : {}),
  }
}

/** Everything on stdin, without the trailing newline a `echo` or here-string adds. */
export async function readStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** A line for people, on stderr, so stdout stays clean for `$(msal-ts ...)`. */
export function say(io: Io, line: string): void {
  io.stderr.write(`${line}\n`)
}

export function warn(io: Io, message: string): void {
  say(io, `msal-ts: warning: ${message}`)
}
