import type { Command } from 'commander'
import type { AuthenticationResult } from '../core/clients/application.js'
import { OAuthServerError, UsageError } from '../core/kernel/errors.js'
import type { PublicClientApplication } from '../core/clients/public-client.js'
import { normalizeScopes } from '../core/protocol/scopes.js'
import { type FlagsOf, type OptionDeclaration } from './shared/common-option-table.js'
import { commandFrom } from './shared/command-from-table.js'
import { signInOptions } from './shared/sign-in-options.js'
import { type CommonFlags } from './shared/settings.js'
import type { CommandDeps } from './shared/deps.js'
import { type Io, readStdin, say } from './shared/io.js'
import { tokenFormats, writeToken } from './shared/output.js'
import { parseJsonObject } from './shared/scope-options.js'
import { startSpinner } from './shared/spinner.js'

const loginOptions = [
  {
    flags: '-s, --scope <scope>',
    description: 'scope to consent to now (repeatable)',
    repeatable: true,
  },
  { flags: '--device-code', description: 'sign in on another device with a code' },
  {
    flags: '--username <upn>',
    description: 'sign in with a password (from --password-stdin or MSAL_TS_PASSWORD)',
  },
  { flags: '--password-stdin', description: 'read the password from stdin' },
  { flags: '--no-browser', description: 'print the sign-in URL instead of opening a browser' },
  {
    flags: '--redirect-port <port>',
    description: 'fixed loopback port for the redirect (default: a free one)',
  },
  signInOptions.prompt,
  signInOptions.loginHint,
  signInOptions.domainHint,
  signInOptions.maxAge,
  {
    flags: '--response-mode <mode>',
    description: 'how the provider returns the code',
    choices: ['query', 'form_post'],
  },
  signInOptions.claimsChallenge,
  { flags: '--wait <seconds>', description: 'how long to wait for the person (default: 300)' },
  { flags: '-o, --output <format>', description: 'also print the token', choices: tokenFormats },
] as const satisfies readonly OptionDeclaration[]

type LoginFlags = CommonFlags & FlagsOf<typeof loginOptions>

const examples = `
Examples:
  msal-ts login --scope https://graph.microsoft.com/User.Read      # browser on this machine
  msal-ts login --device-code                                      # over SSH: a code to enter elsewhere
  msal-ts login --no-browser --redirect-port 8400                  # with ssh -L 8400:127.0.0.1:8400
  printf %s "$PW" | msal-ts login --username bob@contoso.com --password-stdin`

export function loginCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'login',
    description: 'sign in a person: browser (default), device code, or username and password',
    options: loginOptions,
    requests: 'user-tokens',
    examples,
  }).action(async (flags: LoginFlags) => runLogin(flags, deps))
}

export async function runLogin(flags: LoginFlags, deps: CommandDeps): Promise<void> {
  const { io } = deps
  const scopes = normalizeScopes(flags.scope)
  const waitSeconds = seconds(flags.wait ?? '300', '--wait')
  const maxAge = flags.maxAge === undefined ? undefined : seconds(flags.maxAge, '--max-age')
  if (flags.claimsChallenge !== undefined) {
    parseJsonObject(flags.claimsChallenge, '--claims-challenge')
  }
  if (flags.deviceCode && flags.username) {
    throw new UsageError('conflicting_options', 'give --device-code or --username, not both')
  }
  refuseOffPath(flags)
  const app = await deps.apps.publicApp(flags)
  try {
    let result: AuthenticationResult
    const path = { scopes, maxAge, waitSeconds }
    if (flags.username) {
      result = await passwordLogin(app, flags, path, deps)
    } else if (flags.deviceCode) {
      result = await deviceCodeLogin(app, flags, path, io)
    } else {
      result = await browserLogin(app, flags, path, deps)
    }
    say(
      io,
      `Signed in as ${result.account?.username || result.account?.home_account_id || 'an account with no username'}`,
    )
    if (flags.output) {
      writeToken(io, result, flags.output, result.account ? { account: result.account } : {})
    }
  } catch (error) {
    // The person is signing in right now: a refusal (wrong password, expired code) is exit 1, not 3.
    if (error instanceof OAuthServerError && error.kind !== 'server') {
      throw new SignInRefused(error.status, error.body)
    }
    throw error
  } finally {
    await app.close()
  }
}

/** What every sign-in path takes, checked once. */
interface PathSettings {
  scopes: string[]
  maxAge: number | undefined
  waitSeconds: number
}

/** Options only one sign-in path can honour, refused on the others rather than ignored. */
function refuseOffPath(flags: LoginFlags): void {
  const path = flags.username ? '--username' : flags.deviceCode ? '--device-code' : undefined
  if (path === undefined) {
    if (flags.passwordStdin) {
      throw new UsageError('conflicting_options', '--password-stdin goes with --username')
    }
    return
  }
  const browserOnly = [
    ['--no-browser', !flags.browser],
    ['--redirect-port', flags.redirectPort !== undefined],
    ['--prompt', flags.prompt !== undefined],
    ['--login-hint', flags.loginHint !== undefined],
    ['--domain-hint', flags.domainHint !== undefined],
    ['--response-mode', flags.responseMode !== undefined],
    ...(path === '--username'
      ? [['--wait', flags.wait !== undefined] as const]
      : [['--password-stdin', flags.passwordStdin === true] as const]),
  ] as const
  const given = browserOnly.filter(([, set]) => set).map(([name]) => name)
  if (given.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `${given.join(', ')} cannot act with ${path}: ${path === '--username' ? 'no browser and no wait' : 'no browser here'}`,
    )
  }
}

function browserLogin(
  app: PublicClientApplication,
  flags: LoginFlags,
  { scopes, maxAge, waitSeconds }: PathSettings,
  { io, openSignInPage }: CommandDeps,
) {
  return app.acquireTokenInteractive(scopes, {
    openBrowser: (url) =>
      openSignInPage(url, {
        browser: flags.browser,
        fixedPort: flags.redirectPort !== undefined,
      }),
    timeoutMs: waitSeconds * 1000,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(flags.redirectPort !== undefined ? { port: port(flags.redirectPort) } : {}),
    ...(flags.prompt ? { prompt: flags.prompt } : {}),
    ...(flags.loginHint ? { loginHint: flags.loginHint } : {}),
    ...(flags.domainHint ? { domainHint: flags.domainHint } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(flags.responseMode ? { responseMode: flags.responseMode } : {}),
    ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
  })
}

async function deviceCodeLogin(
  app: PublicClientApplication,
  flags: LoginFlags,
  { scopes, maxAge, waitSeconds }: PathSettings,
  io: Io,
) {
  const flow = await app.initiateDeviceFlow(scopes)
  say(io, flow.message)
  const spinner = startSpinner(io, 'Waiting for the sign-in to complete')
  try {
    return await app.acquireTokenByDeviceFlow(flow, {
      timeoutMs: waitSeconds * 1000,
      ...(io.signal ? { signal: io.signal } : {}),
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
    })
  } finally {
    spinner.stop()
  }
}

async function passwordLogin(
  app: PublicClientApplication,
  flags: LoginFlags,
  { scopes, maxAge }: PathSettings,
  { io, prompter }: CommandDeps,
) {
  const username = flags.username ?? ''
  let password = flags.passwordStdin ? await readStdin(io) : io.env['MSAL_TS_PASSWORD']
  if (!password && !flags.passwordStdin && prompter.canPrompt()) {
    password = await prompter.password(`Password for ${username}`)
  }
  if (!password) {
    throw new UsageError(
      'missing_password',
      'no password: pass --password-stdin or set MSAL_TS_PASSWORD',
    )
  }
  return app.acquireTokenByUsernamePassword(username, password, scopes, {
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(flags.claimsChallenge !== undefined ? { claimsChallenge: flags.claimsChallenge } : {}),
  })
}

/** An identity provider error during sign-in: a runtime failure (exit 1) whatever its code. */
class SignInRefused extends OAuthServerError {
  static {
    this.prototype.name = 'SignInRefused'
  }

  override readonly kind = 'server'
}

function seconds(text: string, option: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(
      'invalid_option',
      `${option} takes whole seconds, not ${JSON.stringify(text)}`,
    )
  }
  return value
}

function port(text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UsageError(
      'invalid_option',
      `--redirect-port takes a port number, not ${JSON.stringify(text)}`,
    )
  }
  return value
}
