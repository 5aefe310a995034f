import { Command } from 'commander'
import type { OptionDeclaration, TokenRequests } from './common-option-table.js'
import { addCommonOptions, commanderOption } from './common-options.js'

/** A positional argument as commander takes it: `<operation>`, `[scope...]`. */
export interface ArgumentDeclaration {
  readonly name: string
  readonly description: string
}

export interface CommandDeclaration {
  readonly name: string
  readonly description: string
  readonly arguments?: readonly ArgumentDeclaration[]
  /** The command's own options, in the order its help lists them, before the shared ones. */
  readonly options: readonly OptionDeclaration[]
  /** Which shared options it lists (common-option-table.ts). */
  readonly requests: TokenRequests
  /** Shown after the options. */
  readonly examples?: string
}

/**
 * A command from its declarations: its own options, then the shared ones under their heading,
 * then its examples. The caller attaches the action, which alone knows the flags' type.
 */
export function commandFrom(declaration: CommandDeclaration): Command {
  const command = new Command(declaration.name).description(declaration.description)
  for (const argument of declaration.arguments ?? []) {
    command.argument(argument.name, argument.description)
  }
  for (const option of declaration.options) {
    command.addOption(commanderOption(option))
  }
  addCommonOptions(command, { requests: declaration.requests })
  if (declaration.examples !== undefined) {
    command.addHelpText('after', declaration.examples)
  }
  return command
}
