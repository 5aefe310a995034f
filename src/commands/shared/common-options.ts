import { type Command, Option } from 'commander'
import {
  type OptionDeclaration,
  type TokenRequests,
  commonOptionsFor,
} from './common-option-table.js'

export type { TokenRequests } from './common-option-table.js'

/** The heading the shared options are listed under, after a command's own (cli.md, as gh does). */
export const sharedOptionsHeading = 'Shared options:'

const collect = (value: string, previous: string[]) => [...previous, value]

/** The shared options that change what the command does, and help, under their own heading. */
export function addCommonOptions(
  command: Command,
  { requests }: { requests: TokenRequests },
): Command {
  for (const declaration of commonOptionsFor(requests)) {
    command.addOption(commanderOption(declaration).helpGroup(sharedOptionsHeading))
  }
  return command.addHelpOption(
    new Option('-h, --help', 'display help for command').helpGroup(sharedOptionsHeading),
  )
}

/** A commander option from its declaration. */
export function commanderOption(declaration: OptionDeclaration): Option {
  const option = new Option(declaration.flags, declaration.description)
  if (declaration.repeatable) {
    option.argParser(collect).default([])
  }
  if (declaration.default !== undefined) {
    option.default(declaration.default)
  }
  return declaration.choices === undefined ? option : option.choices(declaration.choices)
}
