import type { Colours, Io } from './io.js'

/**
 * Colour for a stream: never with --no-color or NO_COLOR; always with FORCE_COLOR (other than 0);
 * else only on a terminal, so piped and captured output never holds an escape sequence.
 */
function wantsColour(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
): boolean {
  if (argv.includes('--no-color') || (env['NO_COLOR'] ?? '') !== '') {
    return false
  }
  const force = env['FORCE_COLOR']
  if (force !== undefined && force !== '') {
    return force !== '0' && force !== 'false'
  }
  return stream.isTTY === true && env['TERM'] !== 'dumb'
}

/** The colours for this run; chalk is loaded only when some stream gets colour. */
export async function colours(io: Io, argv: readonly string[]): Promise<Colours> {
  const stdout = wantsColour(io.stdout, io.env, argv)
  const stderr = wantsColour(io.stderrIsTTY ? { isTTY: io.stderrIsTTY() } : io.stderr, io.env, argv)
  if (!stdout && !stderr) {
    return {}
  }
  const { Chalk } = await import('chalk')
  const chalk = new Chalk({ level: 1 })
  return { ...(stdout ? { stdout: chalk } : {}), ...(stderr ? { stderr: chalk } : {}) }
}
