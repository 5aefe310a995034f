import { closeSync, fstatSync, openSync, writeSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { RuntimeFailure } from '../../core/kernel/errors.js'
import { printable } from './printable.js'

/** Where a command's results go: all it ever does with stdout. */
export interface Output {
  write(text: string): unknown
  readonly isTTY?: boolean
  /** The terminal's width, when the output is a terminal. */
  readonly columns?: number
  /** No more output: a reader waiting for its end (`$(...)`) gets it while the process runs on. */
  end?(): void
  /**
   * From now on a reader gone is a failure (exit 1), not the end of the output: for output that
   * must be read, as the endpoint `serve` announces, without which it would serve no one.
   */
  requireReader?(): void
}

/** The styles a stream may get (colour.ts makes them); each is given text already made printable. */
export interface Styles {
  red: (text: string) => string
  yellow: (text: string) => string
  bold: (text: string) => string
}

/** The streams that get colour; a stream without styles stays plain. */
export interface Colours {
  stdout?: Styles
  stderr?: Styles
}

/** The process's streams, passed to commands so they never reach for globals. */
export interface Io {
  stdin: Readable & { isTTY?: boolean }
  stdout: Output
  stderr: Writable & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  /** Aborted on Ctrl-C: long waits (browser, device code, prompts) end with exit 130. */
  signal?: AbortSignal
  /** Set by the CLI when a stream may get colour (a terminal, or FORCE_COLOR). */
  colours?: Colours
  /** Whether stderr is a terminal, answered without building the stream when it cannot be one. */
  stderrIsTTY?: () => boolean
}

export function processIo(signal?: AbortSignal): Io {
  return {
    // Node builds each of its process streams on first use, loading its stream machinery: a cached
    // `token` that reads nothing and reports nothing pays for none of them.
    get stdin() {
      return process.stdin
    },
    stdout: fdOutput(),
    get stderr() {
      return quietStderr()
    },
    stderrIsTTY: () => onTerminal(2, quietStderr),
    env: process.env,
    ...(signal ? { signal } : {}),
  }
}

/**
 * process.stderr, whose write failures (a full disk, a reader gone) are dropped: there is no one
 * left to tell, and an unheard 'error' event would end the run as a crash, exit 1, whatever the
 * exit code the run had earned (2 for bad usage, 3 for a sign-in needed).
 */
function quietStderr(): typeof process.stderr {
  const stream = process.stderr
  if (stream.listenerCount('error') === 0) {
    stream.on('error', () => {})
  }
  return stream
}

/**
 * A terminal is a character device: a pipe or a file is known not to be one without building
 * Node's stream for it (or loading node:tty), both of which load Node's network stack.
 */
function onTerminal(fd: 1 | 2, stream: () => { isTTY?: boolean }): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) {
      return false
    }
  } catch {
    return false
  }
  return stream().isTTY === true
}

/**
 * stdout written straight to file descriptor 1, whole, before the call returns: nothing is lost
 * when the process ends, and no stream is built for a line of output. Only a non-blocking pipe that
 * is full makes it hand over, for good, to Node's process.stdout, which waits for the reader.
 */
function fdOutput(): Output {
  let stream: NodeJS.WriteStream | undefined
  let readerRequired = false
  const readerGone = (): never => {
    if (!readerRequired) {
      // A reader that stops early (`| head`) is not an error of ours.
      process.exit(0)
    }
    throw new RuntimeFailure('stdout_closed', 'stdout was closed before the output was written')
  }
  return {
    // Only asked where a person may be reading (the accounts table, help's width).
    get isTTY() {
      return onTerminal(1, () => process.stdout)
    },
    get columns() {
      return onTerminal(1, () => process.stdout) ? process.stdout.columns : undefined
    },
    write(text) {
      if (stream) {
        return stream.write(text)
      }
      let rest = Buffer.from(text)
      try {
        while (rest.length > 0) {
          rest = rest.subarray(writeSync(1, rest))
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EPIPE') {
          readerGone()
        }
        if (code !== 'EAGAIN') {
          // A full disk or a device that takes nothing (>/dev/full) is an I/O failure, not a bug.
          throw stdoutFailed(code)
        }
        stream = process.stdout
        // Too late to throw to the caller: a required reader gone is the one exit-1 line here.
        stream.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE' || readerRequired) {
            const failure = e.code === 'EPIPE' ? 'stdout_closed' : 'stdout_failed'
            quietStderr().write(`msal-ts: ${failure}: cannot write to stdout (${e.code})\n`)
            process.exit(1)
          }
          readerGone()
        })
        return stream.write(rest)
      }
      return true
    },
    requireReader() {
      readerRequired = true
    },
    end() {
      if (stream) {
        stream.end()
        return
      }
      closeSync(1)
      // Descriptor 1 goes to /dev/null rather than to the next file or socket the process opens.
      const spare = openSync('/dev/null', 'w')
      if (spare !== 1) {
        closeSync(spare)
      }
    },
  }
}

function stdoutFailed(code: string | undefined): RuntimeFailure {
  return new RuntimeFailure('stdout_failed', `cannot write to stdout (${code ?? 'unknown error'})`)
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

/**
 * A line for people, on stderr, so stdout stays clean for `$(msal-ts ...)`. Every line for people
 * passes here, made printable: whatever text from outside it holds (a device-code message, a
 * username, an error description) can neither drive the terminal nor forge a line of its own.
 */
export function say(io: Io, line: string): void {
  io.stderr.write(`${printable(line)}\n`)
}

/** A `msal-ts: <label>: <message>` line; only the label, made printable first, gets a colour. */
export function sayLabelled(
  io: Io,
  label: string,
  message: string,
  colour?: 'red' | 'yellow',
): void {
  const prefix = `msal-ts: ${printable(label)}:`
  const styled = colour ? (io.colours?.stderr?.[colour](prefix) ?? prefix) : prefix
  io.stderr.write(`${styled} ${printable(message)}\n`)
}

export function warn(io: Io, message: string): void {
  sayLabelled(io, 'warning', message, 'yellow')
}
