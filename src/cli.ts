import { type Command, CommanderError } from 'commander'
import { MsalTsError, OAuthServerError } from './core/kernel/errors.js'
import { type Io, processIo, say, sayLabelled } from './commands/shared/io.js'
import { colours } from './commands/shared/colour.js'
import { withCliHint } from './commands/shared/hints.js'
import { applyProfileOutput } from './commands/shared/profile.js'
import { commands, newProgram } from './registry.js'

export const exitCodes = { ok: 0, failure: 1, usage: 2, signIn: 3, interrupted: 130 } as const

/** Parses argv, runs the command, and maps whatever it throws to one stderr line and an exit code. */
export async function main(argv: readonly string[], plainIo: Io = processIo()): Promise<number> {
  if (argv[0] === '__complete') {
    // Asked by shell completions on every Tab: answered before any command is loaded, never an error.
    await (await import('./commands/complete.js')).complete(argv.slice(1), plainIo)
    return exitCodes.ok
  }
  // Copied with its getters: a spread would build stdin and stderr, which most runs never use.
  const io: Io = Object.assign(
    Object.defineProperties({}, Object.getOwnPropertyDescriptors(plainIo)) as Io,
    { colours: await colours(plainIo, argv) },
  )
  const verbose = argv.includes('--verbose') || argv.includes('-v')
  const program = newProgram(io)
  const words = argv.filter((arg) => !arg.startsWith('-'))
  // `msal-ts help token` shows the real command's help, so that command is loaded too.
  const name = words[0] === 'help' ? words[1] : words[0]
  for (const [command, entry] of Object.entries(commands)) {
    if (command === name) {
      program.addCommand((await entry.load())(io).helpGroup(entry.group))
    } else {
      program.command(command).description(entry.description).helpGroup(entry.group)
    }
  }
  // The implicit `help` command joins the helpers.
  program.commandsGroup('Helpers:').helpCommand(true)
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput())
    command.commands.forEach(configure)
  }
  program.commands.forEach(configure)
  program.hook('preAction', (_program, command) => applyProfileOutput(command, io.env))
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exitCodes.ok
  } catch (error) {
    return report(error, io, { verbose })
  }
}

function report(error: unknown, io: Io, { verbose }: { verbose: boolean }): number {
  if (error instanceof CommanderError) {
    // Asked-for help and the version exit 0; help shown for a missing command is a usage error.
    return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage
  }
  if (error instanceof MsalTsError) {
    sayLabelled(io, error.code, withCliHint(error), 'red')
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
