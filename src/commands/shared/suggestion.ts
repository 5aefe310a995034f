import type { Command } from 'commander'
import { UsageError } from '../../core/kernel/errors.js'

/**
 * A usage error with a likely fix, which the CLI prints on a second line as commander prints its
 * own ("(Did you mean token?)"), per cli.md "Exit codes".
 */
export class SuggestedUsageError extends UsageError {
  static {
    this.prototype.name = 'SuggestedUsageError'
  }

  readonly suggestion: string

  constructor(code: string, message: string, suggestion: string) {
    super(code, message)
    this.suggestion = suggestion
  }
}

/**
 * A host name, an optional port, then a path or nothing; `//` in front as a browser's
 * scheme-relative link. A second `/` right after the host (`HTTPS//h/x`) is a mistyped scheme,
 * not a host, so it matches nothing.
 */
const schemeless = /^(?:\/\/)?([a-z\d][a-z\d.-]*(?::\d+)?(?:\/(?!\/)\S*)?)$/i

/** An authority given without its scheme (`login.microsoftonline.com/contoso`) gets `https://` suggested. */
export function checkAuthorityScheme(text: string | undefined): void {
  if (text === undefined || /^[a-z][a-z\d+.-]*:\/\//i.test(text)) {
    return
  }
  const hostAndPath = schemeless.exec(text)?.[1]
  if (hostAndPath !== undefined && URL.canParse(`https://${hostAndPath}`)) {
    throw new SuggestedUsageError(
      'invalid_authority',
      `the authority ${JSON.stringify(text)} is not a URL: it has no https:// in front`,
      `Did you mean https://${hostAndPath}?`,
    )
  }
}

/**
 * The commands (`config set` for a subcommand) that take an option, named by its long or short
 * flag: an option given to the wrong command is better answered with where it acts than with the
 * nearest spelling among this command's options.
 */
export function commandsTaking(flag: string, program: Command): string[] {
  const path = (command: Command): string =>
    command.parent?.parent ? `${path(command.parent)} ${command.name()}` : command.name()
  const walk = (command: Command): Command[] => [command, ...command.commands.flatMap(walk)]
  return program.commands
    .flatMap(walk)
    .filter((command) =>
      command.options.some((option) => option.long === flag || option.short === flag),
    )
    .map(path)
}

/** `a`, `a and b`, `a, b and c`. */
export function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}
