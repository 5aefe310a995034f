import { type Command, CommanderError, Help, type Option } from 'commander'
import { MsalTsError, OAuthServerError, UsageError } from './core/kernel/errors.js'
import { type Io, processIo, say, sayLabelled } from './commands/shared/io.js'
import { colours } from './commands/shared/colour.js'
import { withCliHint } from './commands/shared/hints.js'
import { applyProfileOutput } from './commands/shared/profile.js'
import type { CommandDeps } from './commands/shared/deps.js'
import type { CommonFlags } from './commands/shared/settings.js'
import { SuggestedUsageError, commandsTaking, listed } from './commands/shared/suggestion.js'
import { commands, defaultDeps, fullProgram, newProgram } from './registry.js'

const exitCodes = { ok: 0, failure: 1, usage: 2, signIn: 3, interrupted: 130 } as const

/**
 * Parses argv, runs the command, and maps whatever it throws to one stderr line and an exit code.
 * `deps` replaces the command dependencies the registry would give (unit tests pass fakes).
 */
export async function main(
  given: readonly string[],
  plainIo: Io = processIo(),
  deps: Partial<Omit<CommandDeps, 'io'>> = {},
): Promise<number> {
  if (given[0] === '__complete') {
    // Asked by shell completions on every Tab: answered before any command is loaded, never an error.
    await (await import('./commands/complete.js')).complete(given.slice(1), plainIo)
    return exitCodes.ok
  }
  const argv = asked(given)
  // Copied with its getters: a spread would build stdin and stderr, which most runs never use.
  const io: Io = Object.assign(
    Object.defineProperties({}, Object.getOwnPropertyDescriptors(plainIo)) as Io,
    { colours: await colours(plainIo, argv) },
  )
  const program = newProgram(io)
  // Held back so that an unknown option's hint can be worked out (loading every command) first.
  const output = program.configureOutput()
  let heldError: string | undefined
  program.configureOutput({ ...output, outputError: (text) => (heldError = text) })
  const words = argv.filter((arg) => !arg.startsWith('-'))
  // `msal-ts help token` shows the real command's help, so that command is loaded too.
  const name = words[0] === 'help' ? words[1] : words[0]
  let parsed = argv
  for (const [command, entry] of Object.entries(commands)) {
    if (command === name) {
      const loaded = (await entry.load())({ ...defaultDeps(io), ...deps })
      program.addCommand(loaded.helpGroup(entry.group))
      parsed = withGroupHelp(argv, loaded)
    } else {
      program.command(command).description(entry.description).helpGroup(entry.group)
    }
  }
  // The implicit `help` command joins the helpers.
  // eslint-disable-next-line no-restricted-syntax -- commander's API, not ours to name
  program.commandsGroup('Helpers:').helpCommand(true)
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .configureOutput(program.configureOutput())
      .configureHelp({ optionDescription })
    if (command.registeredArguments.length === 0 && command.commands.length === 0) {
      // Refused in the preAction hook instead, with a better hint than "too many arguments".
      command.allowExcessArguments()
    }
    command.commands.forEach(configure)
  }
  program.commands.forEach(configure)
  let ran: Command | undefined
  program.hook('preAction', (_program, command) => {
    ran = command
    refuseStrayArguments(command)
    applyProfileOutput(command, io.env)
  })
  try {
    await program.parseAsync([...parsed], { from: 'user' })
    return exitCodes.ok
  } catch (error) {
    if (heldError !== undefined) {
      const unknownOption =
        error instanceof CommanderError && error.code === 'commander.unknownOption'
      const text = unknownOption ? await withOptionHint(heldError, io) : heldError
      output.outputError?.(text, (line) => output.writeErr?.(line))
    }
    const flags = ran?.opts<CommonFlags>()
    // As parsed: a `-v` given as another option's value (`--scope -v`) asks for no trace.
    return report(error, io, { verbose: flags?.verbose === true, flags })
  }
}

/**
 * An option that other commands take gets named where it acts, in place of commander's nearest
 * spelling among this command's options (`token --region`: not "Did you mean --version?").
 */
async function withOptionHint(text: string, io: Io): Promise<string> {
  const flag = /unknown option '(-[^'=]+)/.exec(text)?.[1]
  const takers = flag === undefined ? [] : commandsTaking(flag, await fullProgram(io))
  if (flag === undefined || takers.length === 0) {
    return text
  }
  return `${text.split('\n', 1)[0]}\n(${flag} acts only in ${listed(takers)})\n`
}

/**
 * What the words ask for: bare `msal-ts` is a request for help (cli.md), and a typo after `help`
 * is the same typo as a command, so it gets the same suggestion.
 */
function asked(argv: readonly string[]): readonly string[] {
  if (argv.length === 0) {
    return ['--help']
  }
  const [first, second] = argv
  const typo = second !== undefined && !second.startsWith('-') && second !== 'help'
  if (first === 'help' && typo && !(second in commands)) {
    return [second]
  }
  return argv
}

/**
 * A bare command group (`msal-ts config`) asks for its help, as bare `msal-ts` does (exit 0);
 * commander would print it as an error instead.
 */
function withGroupHelp(argv: readonly string[], command: Command): readonly string[] {
  const bare = argv.length === 1 && argv[0] === command.name()
  return bare && command.commands.length > 0 ? [...argv, '--help'] : argv
}

/** A word where an option was meant, above all a scope without --scope. */
function refuseStrayArguments(command: Command): void {
  const stray = command.args
  if (stray.length === 0 || command.registeredArguments.length > 0) {
    return
  }
  const message = `${command.name()} takes options only, not ${stray.map((arg) => JSON.stringify(arg)).join(' ')}`
  const takesScope = command.options.some((option) => option.long === '--scope')
  if (takesScope && stray.every((arg) => /^[\w.:/-]+$/.test(arg))) {
    const fix = stray.map((word) => `${scopeOption(command, word)} ${word}`).join(' ')
    throw new SuggestedUsageError('unexpected_argument', message, `Did you mean ${fix}?`)
  }
  throw new UsageError('unexpected_argument', message)
}

/**
 * The option a stray word was most likely meant for. An app token is for a whole resource, so
 * client-token takes a scope only as `<resource>/.default`; elsewhere a bare `https://host` names
 * a resource rather than a scope.
 */
function scopeOption(command: Command, word: string): '--scope' | '--resource' {
  const takesResource = command.options.some((option) => option.long === '--resource')
  const resource =
    command.name() === 'client-token'
      ? !word.endsWith('/.default')
      : /^[a-z][a-z\d+.-]*:\/\/[^/]+\/?$/i.test(word)
  return takesResource && resource ? '--resource' : '--scope'
}

function report(
  error: unknown,
  io: Io,
  { verbose, flags }: { verbose: boolean; flags: CommonFlags | undefined },
): number {
  if (error instanceof CommanderError) {
    // Asked-for help and the version exit 0; help shown for a missing command is a usage error.
    return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage
  }
  if (error instanceof MsalTsError) {
    sayLabelled(io, error.code, withCliHint(error, { flags, env: io.env }), 'red')
    if (error instanceof SuggestedUsageError) {
      say(io, `(${error.suggestion})`)
    }
    const details = error instanceof OAuthServerError ? serverDetails(error) : undefined
    if (details !== undefined) {
      say(io, details)
    }
  } else {
    const message = error instanceof Error ? error.message : String(error)
    sayLabelled(io, 'internal_error', message.split('\n', 1)[0] ?? '')
  }
  if (verbose && error instanceof Error && error.stack) {
    // Its first line repeats the message, which may come from outside: each line made printable.
    error.stack.split('\n').forEach((line) => say(io, line))
  }
  return error instanceof MsalTsError ? exitCodeOf(error) : exitCodes.failure
}

function exitCodeOf(error: MsalTsError): number {
  switch (error.kind) {
    case 'usage':
      return exitCodes.usage
    case 'interaction_required':
      return exitCodes.signIn
    case 'cancelled':
      return exitCodes.interrupted
    default:
      return exitCodes.failure
  }
}

/** The second line of an identity provider error: what its support desk asks for. */
function serverDetails(error: OAuthServerError): string | undefined {
  const { body } = error
  const parts = [
    ...(body.error_codes?.length ? [`error_codes ${body.error_codes.join(',')}`] : []),
    ...(body.suberror ? [`suberror ${body.suberror}`] : []),
    ...(body.trace_id ? [`trace_id ${body.trace_id}`] : []),
    ...(body.correlation_id ? [`correlation_id ${body.correlation_id}`] : []),
  ]
  // An error that came back through a redirect has no HTTP status or codes worth a line.
  return parts.length === 0 ? undefined : `  ${[`status ${error.status}`, ...parts].join('; ')}`
}

const plainHelp = new Help()

/** A repeatable option's empty list is no default worth a word: its help says "(repeatable)". */
function optionDescription(option: Option): string {
  const emptyList = Array.isArray(option.defaultValue) && option.defaultValue.length === 0
  return plainHelp.optionDescription(
    emptyList
      ? Object.assign(Object.create(option) as Option, { defaultValue: undefined })
      : option,
  )
}
