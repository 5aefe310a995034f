import type { Io } from './io.js'
import { printable } from './printable.js'

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** A spinner on stderr, only on a terminal; piped stderr gets nothing. */
export function startSpinner(io: Io, text: string): { stop(): void } {
  if (!io.stderr.isTTY) {
    return { stop: () => undefined }
  }
  const shown = printable(text)
  let frame = 0
  const timer = setInterval(() => {
    io.stderr.write(`\r${frames[frame++ % frames.length] ?? ''} ${shown}`)
  }, 100)
  return {
    stop() {
      clearInterval(timer)
      io.stderr.write('\r\u001b[2K')
    },
  }
}
