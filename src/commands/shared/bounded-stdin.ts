import { fstatSync } from 'node:fs'
import { UsageError } from '../../core/kernel/errors.js'
import type { Io } from './io.js'

/**
 * All of stdin as UTF-8, refused (exit 2) past `maxBytes`: stdin is whatever another program or a
 * person feeds in, and an endless stream must not fill memory.
 */
export async function readBoundedStdin(io: Io, maxBytes: number, what: string): Promise<string> {
  refuseDirectory(io, what)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of io.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > maxBytes) {
      io.stdin.destroy()
      throw new UsageError('input_too_large', `${what} on stdin is over ${maxBytes} bytes`)
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Node reads a directory given as stdin (`< /tmp`) as empty input: say what is wrong instead. */
function refuseDirectory(io: Io, what: string): void {
  const fd: unknown = (io.stdin as { fd?: unknown }).fd
  if (typeof fd === 'number' && isDirectory(fd)) {
    throw new UsageError('invalid_input', `stdin is a directory, not ${what}`)
  }
}

function isDirectory(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory()
  } catch {
    // A closed stdin reads as empty input, which the caller refuses in its own words.
    return false
  }
}
