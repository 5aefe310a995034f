import { Readable } from 'node:stream'
import type { CommandDeps } from './shared/deps.js'
import { withoutPrompts } from './shared/prompter.js'
import type { Command } from 'commander'
import { MsalTsError, RuntimeFailure, UsageError } from '../core/kernel/errors.js'
import { controlCharacter } from '../core/kernel/control-characters.js'
import { runClientToken } from './client-token-run.js'
import { runToken } from './token.js'
import { readBoundedStdin } from './shared/bounded-stdin.js'
import { commandFrom } from './shared/command-from-table.js'
import type { FlagsOf, OptionDeclaration } from './shared/common-option-table.js'
import { type Io, say } from './shared/io.js'
import { refuseGivenOptions } from './shared/refuse-options.js'
import {
  appIdentityOptions,
  type ManagedIdentityFlags,
  type ManagedIdentitySelection,
} from './shared/app-identity-options.js'
import { signInOptions } from './shared/sign-in-options.js'

/** Azure DevOps' resource id: its tokens are for `<this>/.default`. */
export const azureDevOpsResource = '499b84ac-1321-427f-aa17-267ca6975798'

const gitCredentialOwnOptions = [
  {
    flags: '--host <name>',
    description: 'also an Azure DevOps host, e.g. an Azure DevOps Server (repeatable)',
    repeatable: true,
  },
  signInOptions.account,
] as const satisfies readonly OptionDeclaration[]

type GitCredentialFlags = ManagedIdentitySelection & FlagsOf<typeof gitCredentialOwnOptions>

/** A request from git is a handful of short lines; anything near this is not git. */
const maxRequestBytes = 64 * 1024

const examples = `
Examples:
  # Let git use your msal-ts sign-in for Azure DevOps (run msal-ts login once first)
  git config --global credential.https://dev.azure.com.helper '!msal-ts git-credential'

  # ... with the application and tenant you signed in with, when they are not the defaults
  git config --global credential.https://dev.azure.com.helper '!msal-ts git-credential -c <app-id> -t <tenant>'

  # Azure DevOps Server, or an organization at <org>.visualstudio.com
  git config --global credential.https://tfs.contoso.com.helper '!msal-ts git-credential --host tfs.contoso.com'

  # CI: the pipeline's workload identity, for one command
  git -c credential.helper='!msal-ts git-credential -c <app-id> -t <tenant> --federated-token github' clone https://dev.azure.com/org/project/_git/repo

  # What git would get (the password is an access token: keep it off screens you share)
  printf 'protocol=https\\nhost=dev.azure.com\\n\\n' | msal-ts git-credential get`

export function gitCredentialCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'git-credential',
    description: 'a git credential helper: Azure DevOps access tokens for git over https',
    arguments: [
      { name: '<operation>', description: 'get, store or erase (git calls it with these)' },
    ],
    options: [...gitCredentialOwnOptions, ...appIdentityOptions],
    // App tokens: --region acts in the client credential mode (CI), and is refused without it.
    requests: 'app-tokens',
    examples,
  }).action(async (operation: string, flags: GitCredentialFlags) =>
    runGitCredential(operation, flags, deps),
  )
}

export async function runGitCredential(
  operation: string,
  flags: GitCredentialFlags,
  deps: CommandDeps,
): Promise<void> {
  const { io } = deps
  const hosts = extraHosts(flags.host)
  refuseStdinOptions(flags)
  // Pure usage checks, for every operation and host: a configuration that is wrong is wrong for
  // dev.azure.com too, and one that is valid never stops git's next helper.
  refuseMisfitOptions(flags, io)
  const request = parseRequest(await readBoundedStdin(io, maxRequestBytes, "git's request"))
  // store and erase keep nothing here: the token lives in msal-ts's cache. Git may add operations
  // later; its protocol asks a helper to ignore those.
  if (operation !== 'get' || !isAzureDevOps(request, hosts)) {
    return
  }
  let answer: TokenAnswer
  try {
    answer = await devOpsToken(flags, deps)
  } catch (error) {
    if (error instanceof MsalTsError && error.kind === 'interaction_required') {
      // Git goes on to its next helper, or asks the person itself.
      const message = error.message.replace(/\.$/, '')
      say(
        io,
        `msal-ts git-credential: no Azure DevOps token without signing in: ${message}${/msal-ts login/.test(message) ? '' : '; run msal-ts login'}`,
      )
      return
    }
    throw error
  }
  io.stdout.write(
    [
      `username=${request.get('username') ?? answer.username ?? 'msal-ts'}`,
      `password=${answer.accessToken}`,
      // Git 2.41 and later keep no copy past this (in credential-cache, say); older ones ignore it.
      `password_expiry_utc=${answer.expiresOn}`,
      '',
    ].join('\n'),
  )
}

/** `--host` names, lower-cased; a port or scheme there would never match git's host. */
function extraHosts(hosts: string[]): Set<string> {
  for (const host of hosts) {
    if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i.test(host)) {
      throw new UsageError(
        'invalid_host',
        `--host takes a host name, without scheme or port, not ${JSON.stringify(host)}`,
      )
    }
  }
  return new Set(hosts.map((host) => host.toLowerCase()))
}

function refuseStdinOptions(flags: GitCredentialFlags): void {
  refuseGivenOptions(
    [
      ['--client-secret-stdin', flags.clientSecretStdin === true],
      ['--certificate-password-stdin', flags.certificatePasswordStdin === true],
    ],
    (names) => `${names}: stdin carries git's request; use the environment or a file`,
  )
}

/**
 * Git's `key=value` lines, up to a blank line or the end. Unknown keys are kept but never used; a
 * value holding NUL or CR could smuggle a second line into what git reads back, so it is refused.
 */
function parseRequest(text: string): Map<string, string> {
  const request = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') {
      break
    }
    if (/[\0\r]/.test(line)) {
      throw new UsageError(
        'invalid_request',
        'a line of the credential request holds a NUL or carriage return',
      )
    }
    const at = line.indexOf('=')
    if (at <= 0) {
      throw new UsageError('invalid_request', 'a line of the credential request is not key=value')
    }
    request.set(line.slice(0, at), line.slice(at + 1))
  }
  return request
}

/**
 * An https request for dev.azure.com, an `<org>.visualstudio.com` host or a `--host`, on any port.
 * Git sends `protocol` and `host` (host[:port]); a bare `url` is read the same way.
 */
function isAzureDevOps(request: Map<string, string>, extra: Set<string>): boolean {
  const target = targetOf(request)
  if (target?.protocol !== 'https') {
    return false
  }
  const host = target.host.toLowerCase().replace(/\.$/, '')
  return host === 'dev.azure.com' || host.endsWith('.visualstudio.com') || extra.has(host)
}

function targetOf(request: Map<string, string>): { protocol: string; host: string } | undefined {
  const protocol = request.get('protocol')
  const host = request.get('host')
  if (protocol !== undefined && host !== undefined) {
    return { protocol, host: host.replace(/:\d*$/, '') }
  }
  const url = request.get('url')
  if (url === undefined || !URL.canParse(url)) {
    return undefined
  }
  const parsed = new URL(url)
  return { protocol: parsed.protocol.replace(/:$/, ''), host: parsed.hostname }
}

interface TokenAnswer {
  accessToken: string
  expiresOn: number
  username?: string
}

/** The credential options and managed identity, or the environment's, mean the app's own token. */
const credentialVariables = [
  'MSAL_TS_CLIENT_SECRET',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_FEDERATED_TOKEN_FILE',
]

function asApplication(flags: GitCredentialFlags, io: Io): boolean {
  const credentialGiven =
    flags.managedIdentity === true ||
    [
      flags.clientSecret,
      flags.clientSecretFile,
      flags.certificate,
      flags.privateKey,
      flags.clientAssertion,
      flags.clientAssertionFile,
      flags.federatedToken,
    ].some((value) => value !== undefined)
  return credentialGiven || credentialVariables.some((name) => Boolean(io.env[name]))
}

/**
 * The token for git. One a provider gave with characters git cannot carry (a space, say) was
 * cached all the same, as `token` may use it: asked afresh once, so a provider that has fixed its
 * answer does not leave every get failing until the cached token expires.
 */
async function devOpsToken(flags: GitCredentialFlags, deps: CommandDeps): Promise<TokenAnswer> {
  const first = await tokenResult(flags, deps)
  const uncarriable =
    first.token_source === 'cache' &&
    typeof first.access_token === 'string' &&
    !gitCarries(first.access_token)
  return tokenAnswer(
    uncarriable ? await tokenResult({ ...flags, forceRefresh: true }, deps) : first,
  )
}

interface TokenResult {
  access_token?: unknown
  expires_on?: unknown
  token_source?: unknown
  account?: { username?: unknown }
}

/**
 * The token as `token` or `client-token` gets it, so every option acts exactly as there: they run
 * against an Io whose stdout is kept here and whose stdin is empty and no terminal, so nothing can
 * prompt or read git's pipe.
 */
async function tokenResult(
  flags: GitCredentialFlags & { forceRefresh?: boolean },
  deps: CommandDeps,
): Promise<TokenResult> {
  const { io } = deps
  let output = ''
  const quiet: Io = {
    ...io,
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
    stdout: {
      isTTY: false,
      write: (text: string) => {
        output += text
        return true
      },
    },
  }
  const quietDeps = { ...deps, io: quiet, prompter: withoutPrompts(deps.prompter) }
  const tokenFlags = { ...flags, scope: [], resource: azureDevOpsResource, output: 'json' as const }
  if (asApplication(flags, io)) {
    const appFlags: ManagedIdentityFlags = tokenFlags
    // git-credential has no --on-behalf-of: its --exclude-scope acts on a signed-in account's token.
    await runClientToken(appFlags, quietDeps, { excludeScopeGoesWith: 'a signed-in account' })
  } else {
    await runToken(tokenFlags, quietDeps)
  }
  return JSON.parse(output) as TokenResult
}

/** --account with an app's credential, or the options of an app's credential without one. */
function refuseMisfitOptions(flags: GitCredentialFlags, io: Io): void {
  if (!asApplication(flags, io)) {
    refuseAppOnlyOptions(flags)
  } else if (flags.account !== undefined) {
    throw new UsageError(
      'conflicting_options',
      "--account chooses a signed-in person; with a client credential or --managed-identity the token is the app's",
    )
  }
}

/** The options that qualify a client credential or a managed identity, given without either. */
function refuseAppOnlyOptions(flags: GitCredentialFlags): void {
  refuseGivenOptions(
    [
      ['--thumbprint', flags.thumbprint !== undefined],
      ['--send-x5c', flags.sendX5c === true],
      ['--federated-audience', flags.federatedAudience !== undefined],
      ['--service-connection-id', flags.serviceConnectionId !== undefined],
      ['--object-id', flags.objectId !== undefined],
      ['--mi-resource-id', flags.miResourceId !== undefined],
      ['--region', flags.region !== undefined],
    ],
    (names) =>
      `${names} ${names.includes(',') ? 'go' : 'goes'} with a client credential or --managed-identity, and none is given`,
  )
}

/** Each is a line git reads back: a control character would let a provider forge a key=value. */
function gitCarries(accessToken: string): boolean {
  return /^[!-~]+$/.test(accessToken)
}

function tokenAnswer(result: TokenResult): TokenAnswer {
  if (typeof result.access_token !== 'string' || typeof result.expires_on !== 'number') {
    throw new RuntimeFailure('invalid_response', 'the token answer has no access token')
  }
  if (!gitCarries(result.access_token)) {
    throw new RuntimeFailure(
      'invalid_response',
      'the access token holds characters a git credential cannot carry',
    )
  }
  const username = result.account?.username
  return {
    accessToken: result.access_token,
    expiresOn: result.expires_on,
    ...(typeof username === 'string' && username !== '' && !controlCharacter.test(username)
      ? { username }
      : {}),
  }
}
