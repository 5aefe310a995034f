import { UsageError } from '../../core/kernel/errors.js'

/**
 * Refuses (exit 2, `conflicting_options`) the options of `options` that were given, named in one
 * line that `why` finishes: an option accepted must act (cli.md), so one that cannot here is refused.
 */
export function refuseGivenOptions(
  options: readonly (readonly [name: string, given: boolean])[],
  why: (names: string) => string,
): void {
  const given = options.filter(([, isGiven]) => isGiven).map(([name]) => name)
  if (given.length > 0) {
    throw new UsageError('conflicting_options', why(given.join(', ')))
  }
}
