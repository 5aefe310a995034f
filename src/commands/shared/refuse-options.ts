import { UsageError } from '../../core/kernel/errors.js'
import { type OptionDeclaration, attributeName, longName } from './common-option-table.js'

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

/**
 * The long names (`--client-secret`) of the declared options that `flags` holds a value of: not
 * absent, not an empty list, and for a `--no-` option, given (false).
 */
export function givenOptions(flags: object, declarations: readonly OptionDeclaration[]): string[] {
  const values: Record<string, unknown> = { ...flags }
  return declarations
    .filter((declaration) => {
      const value = values[attributeName(declaration.flags)]
      return longName(declaration.flags).negated
        ? value === false
        : value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0)
    })
    .map(({ flags: declared }) => {
      const { name, negated } = longName(declared)
      return negated ? `--no-${name}` : `--${name}`
    })
}
