import { Command } from 'commander'
import { version } from './core/kernel/version.js'
import type { CommandDeps } from './commands/shared/deps.js'
import type { Io } from './commands/shared/io.js'
import { printableLines } from './commands/shared/printable.js'
import { terminalPrompter } from './commands/shared/prompter.js'

/** Each command's module is loaded only when that command runs. */
export const commands: Record<
  string,
  { description: string; group: string; load: () => Promise<(deps: CommandDeps) => Command> }
> = {
  login: {
    group: 'Sign in:',
    description: 'sign in a person: browser (default), device code, or username and password',
    load: async () => (await import('./commands/login.js')).loginCommand,
  },
  token: {
    group: 'Tokens:',
    description: 'get a token for a signed-in account, from the cache or by refreshing it',
    load: async () => (await import('./commands/token.js')).tokenCommand,
  },
  accounts: {
    group: 'Accounts:',
    description: 'list the signed-in accounts in the cache',
    load: async () => (await import('./commands/accounts.js')).accountsCommand,
  },
  logout: {
    group: 'Accounts:',
    description: 'remove an account and its tokens from the cache',
    load: async () => (await import('./commands/logout.js')).logoutCommand,
  },
  'auth-url': {
    group: 'Web apps:',
    description:
      'print an authorization URL; with --flow-file, start an auth code flow (PKCE, state, nonce)',
    load: async () => (await import('./commands/auth-url.js')).authUrlCommand,
  },
  redeem: {
    group: 'Web apps:',
    description: 'redeem an authorization code: from a flow file and its response, or a bare code',
    load: async () => (await import('./commands/redeem.js')).redeemCommand,
  },
  'migrate-rt': {
    group: 'Web apps:',
    description: 'move a refresh token from elsewhere into the cache (never from argv)',
    load: async () => (await import('./commands/migrate-rt.js')).migrateRtCommand,
  },
  'client-token': {
    group: 'Tokens:',
    description: 'get an app-only token with client credentials (secret, certificate or assertion)',
    load: async () => (await import('./commands/client-token.js')).clientTokenCommand,
  },
  serve: {
    group: 'Tools for other programs:',
    description:
      'serve tokens to local programs as App Service managed identity does (Azure SDKs use it as is)',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  decode: {
    group: 'Tools for other programs:',
    description: "show a token's header and claims (JWT from stdin); --verify checks its signature",
    load: async () => (await import('./commands/decode.js')).decodeCommand,
  },
  'git-credential': {
    group: 'Tools for other programs:',
    description: 'a git credential helper: Azure DevOps access tokens for git over https',
    load: async () => (await import('./commands/git-credential.js')).gitCredentialCommand,
  },
  config: {
    group: 'Helpers:',
    description:
      'keep default options in named profiles (client id, authority, cache dir, output, ...)',
    load: async () => (await import('./commands/config.js')).configCommand,
  },
  completion: {
    group: 'Helpers:',
    description: 'print a completion script for bash, zsh or fish',
    load: async () => {
      const { completionCommand } = await import('./commands/completion.js')
      return (deps) => completionCommand(deps, { program: () => fullProgram(deps.io) })
    },
  },
}

const topLevelHelp = `
Examples:
  # Sign in once: a browser opens (--device-code over SSH)
  msal-ts login --client-id <app id> --tenant contoso.onmicrosoft.com

  # A Graph token for the signed-in account, from the cache or refreshed, ready for curl
  curl -H "$(msal-ts token --scope https://graph.microsoft.com/User.Read -o header)" https://graph.microsoft.com/v1.0/me

  # An app-only token with a client secret (or --certificate, or a federated credential)
  AZURE_CLIENT_SECRET=... msal-ts client-token -c <app id> -t <tenant> --resource https://graph.microsoft.com

  # Keep the client id and tenant as defaults
  msal-ts config set client-id <app id> && msal-ts config set tenant contoso.onmicrosoft.com

Exit codes:
  0    success
  1    runtime failure: the identity provider refused, or a network, TLS or file error
  2    usage or bad input: unknown option, missing value, malformed authority, scope, JSON or PEM
  3    sign-in needed: run msal-ts login
  130  interrupted (Ctrl-C)

Run \`msal-ts <command> --help\` for more.`

/**
 * What commands run with outside unit tests: the engine's applications (loaded when a command
 * first asks for one, so `config` and help never load it), the terminal's prompts, the browser.
 */
export function defaultDeps(io: Io): CommandDeps {
  return {
    io,
    apps: {
      publicApp: async (flags, options) =>
        (await import('./commands/shared/public-app.js')).publicApp(flags, io, options),
      withWebApp: async (flags, use) =>
        (await import('./commands/shared/web-app.js')).withWebApp(flags, io, use),
      confidentialApp: async (settings, options) =>
        (await import('./commands/shared/confidential-app.js')).confidentialApp(
          settings,
          io,
          options,
        ),
      managedIdentityApp: async (settings, id) =>
        (await import('./commands/shared/managed-identity-app.js')).managedIdentityApp(
          settings,
          io,
          id,
        ),
    },
    prompter: terminalPrompter(io),
    openSignInPage: async (url, options) =>
      (await import('./commands/shared/browser.js')).showSignInPage(io, url, options),
  }
}

/** The program with its options and output; commands are added by the caller. */
export function newProgram(io: Io): Command {
  return new Command('msal-ts')
    .description(
      'Get OAuth 2.0 / OpenID Connect tokens from Microsoft Entra ID and any OpenID provider.',
    )
    .version(version, '-V, --version')
    .addHelpText('after', topLevelHelp)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander's own answers ask process.stdout, building a stream help never writes to (80
      // columns is its width when not on a terminal).
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getOutHasColors: () => io.colours?.stdout !== undefined,
      // Its errors and help quote the command line, which may hold anything a script pasted in.
      writeErr: (text) => io.stderr.write(printableLines(text)),
      outputError: (text, write) => write(`msal-ts: usage: ${text.replace(/^error: /, '')}`),
    })
}

/** The program with every command loaded: what shell completions are made from. */
export async function fullProgram(io: Io): Promise<Command> {
  const program = newProgram(io)
  const deps = defaultDeps(io)
  for (const entry of Object.values(commands)) {
    program.addCommand((await entry.load())(deps).helpGroup(entry.group))
  }
  return program
}
