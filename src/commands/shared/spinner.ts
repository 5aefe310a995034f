import type { Io } from './io.js'

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** A spinner on stderr, only on a terminal; piped stderr gets nothing. */
export function startSpinner(io: Io, text: string): { stop(): void } {
  if (!io.stderr.isTTY) {
    return { stop: () => undefined }
  }
  let frame = 0
  const timer = setInterval(() => {
    io.stderr.write(`\r${frames[frame++ % frames.length] ?? ''} ${text}`)
  }, 100)
  return {
    stop() {
      clearInterval(timer)
      io.stderr.write('\r\u001b[2K')
    },
  }
}
