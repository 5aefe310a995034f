import { tokenFromCache } from './commands/token-from-cache.js'
import type { Io } from './commands/shared/io.js'

/**
 * The CLI's entry. A `token` that the cache can answer is answered before the command-line
 * framework and the engine's network code are even loaded; everything else goes to cli.ts.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === 'token' && (await tokenFromCache(argv.slice(1), io))) {
    return 0
  }
  const { main } = await import('./cli.js')
  return main(argv, io)
}

export { processIo } from './commands/shared/io.js'
