import type { Command, Option } from 'commander'
import { clouds } from '../../core/authority/authority.js'
import { profileKeys } from '../shared/profile-keys.js'

/** What a value can be completed from. `dynamic` values come from `msal-ts __complete <what>`. */
export type Values =
  | { kind: 'words'; words: readonly string[] }
  | { kind: 'file' }
  | { kind: 'dir' }
  | { kind: 'dynamic'; what: 'accounts' | 'profiles' }
  | { kind: 'any' }

export interface OptionSpec {
  names: string[]
  description: string
  /** Undefined for a flag that takes no value. */
  value?: Values
}

export interface CommandSpec {
  /** Words from the program to this command, e.g. ['config', 'set']; [] for the program itself. */
  path: string[]
  description: string
  options: OptionSpec[]
  /** The positional arguments' values, in order. */
  args: Values[]
  subcommands: CommandSpec[]
}

export const shells = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof shells)[number]

const words = (list: readonly string[]): Values => ({ kind: 'words', words: list })

/** Values commander does not know as choices, by long option name. */
const knownValues: Record<string, Values> = {
  '--cloud': words(Object.keys(clouds)),
  '--prompt': words(['none', 'login', 'consent', 'select_account', 'create']),
  '--response-mode': words(['query', 'fragment', 'form_post']),
  '--federated-token': words(['github', 'azure-pipelines', 'file:']),
  '--account': { kind: 'dynamic', what: 'accounts' },
  '--username': { kind: 'dynamic', what: 'accounts' },
  '--profile': { kind: 'dynamic', what: 'profiles' },
}

/** Positional arguments' values, by command path and argument name. */
const knownArgs: Record<string, Values> = {
  'completion shell': words(shells),
  'config set key': words(Object.keys(profileKeys)),
  'config get key': words(Object.keys(profileKeys)),
  'config unset key': words(Object.keys(profileKeys)),
}

function optionValues(option: Option): Values | undefined {
  if (!option.required && !option.optional) {
    return undefined
  }
  if (option.argChoices) {
    return words(option.argChoices)
  }
  const known = option.long ? knownValues[option.long] : undefined
  if (known) {
    return known
  }
  const placeholder = /<(\w+)/.exec(option.flags)?.[1] ?? ''
  if (placeholder === 'dir') {
    return { kind: 'dir' }
  }
  return ['path', 'file', 'pem'].includes(placeholder) ? { kind: 'file' } : { kind: 'any' }
}

/** The completion spec of a command tree, help and version options included. */
export function commandSpec(command: Command, path: string[] = []): CommandSpec {
  const options: OptionSpec[] = command.options
    .filter((option) => !option.hidden)
    .map((option) => {
      const value = optionValues(option)
      return {
        names: [option.short, option.long].filter((name): name is string => name !== undefined),
        description: option.description,
        ...(value ? { value } : {}),
      }
    })
  options.push({ names: ['-h', '--help'], description: 'display help for command' })
  return {
    path,
    description: command.description(),
    options,
    args: command.registeredArguments.map(
      (arg) => knownArgs[[...path, arg.name()].join(' ')] ?? { kind: 'any' },
    ),
    subcommands: command.commands
      .filter((sub) => sub.name() !== 'help')
      .map((sub) => commandSpec(sub, [...path, sub.name()])),
  }
}

/** Every command in the tree, the program first. */
export function allCommands(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.subcommands.flatMap(allCommands)]
}
