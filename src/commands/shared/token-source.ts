import { decodeJwt } from 'jose'
import type { Account, AuthenticationResult } from '../../core/clients/application.js'
import { InteractionRequiredError, UsageError } from '../../core/kernel/errors.js'
import { resourceToScope } from '../../core/protocol/scopes.js'
import { withSignInHint } from '../token.js'
import { chooseAccount } from './account-choice.js'
import type { FlagsOf } from './common-option-table.js'
import { refuseClientCredentialMisfits, resolveOptionalCredential } from './credential.js'
import { federationHttpClient } from './federated-token.js'
import type { CommandDeps } from './deps.js'
import { withoutPrompts } from './prompter.js'
import type { ManagedIdentitySelection } from './app-identity-options.js'
import { openManagedIdentity, refuseStrayIdentityOptions } from './managed-identity.js'
import { type CommonSettings, resolveCommon } from './settings.js'
import type { signInOptions } from './sign-in-options.js'

/**
 * The options that pick where tokens for other programs come from: without a client credential or
 * a managed identity, the signed-in account (--account).
 */
export type TokenSourceFlags = ManagedIdentitySelection &
  FlagsOf<readonly [typeof signInOptions.account]>

/** Tokens by resource, from one identity, for as long as the source is open. */
export interface TokenSource {
  /** Whom the tokens are for, to tell the person who started it. */
  readonly holder: string
  readonly settings: CommonSettings
  acquire(resource: string): Promise<AuthenticationResult>
  /** The application (or managed identity) the token was issued to. */
  clientId(token: { access_token: string }): string
  close(): Promise<void>
}

/**
 * `--managed-identity`; else a client credential as `client-token` takes it (options, then the
 * environment); else the signed-in account as `token` gets it, chosen now and never by a prompt.
 */
export async function openTokenSource(
  flags: TokenSourceFlags,
  deps: CommandDeps,
): Promise<TokenSource> {
  const { io } = deps
  if (flags.managedIdentity) {
    return managedIdentitySource(flags, deps)
  }
  refuseStrayIdentityOptions(flags)
  const settings = resolveCommon(flags, io)
  const federationHttp = federationHttpClient(flags, settings, io)
  const credential = await resolveOptionalCredential(
    flags,
    io,
    federationHttp ? { httpClient: federationHttp } : {},
  )
  if (credential === undefined) {
    return accountSource(flags, settings, deps)
  }
  if (flags.account !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--account picks a signed-in account: it goes without a client credential',
    )
  }
  if (typeof credential === 'object' && 'clientAssertion' in credential) {
    // Read afresh for every token; read once now too, so that a missing file stops the start.
    const { clientAssertion } = credential
    await (typeof clientAssertion === 'function' ? clientAssertion() : clientAssertion)
  }
  refuseClientCredentialMisfits(settings, { excludeScopeGoesWith: 'a signed-in account' })
  const app = await deps.apps.confidentialApp(settings, { clientCredential: credential })
  return {
    holder: `the application ${settings.clientId}`,
    settings,
    acquire: (resource) => app.acquireTokenForClient([resourceToScope(resource)]),
    clientId: () => settings.clientId,
    close: async () => {
      await app.close()
      await federationHttp?.close()
    },
  }
}

async function managedIdentitySource(
  flags: TokenSourceFlags,
  deps: CommandDeps,
): Promise<TokenSource> {
  const { client, identity, settings } = await openManagedIdentity(flags, deps, {
    inert: [['--account', flags.account !== undefined]],
  })
  const named = identity === undefined ? undefined : Object.values(identity)[0]
  return {
    holder: named === undefined ? 'the managed identity' : `the managed identity ${String(named)}`,
    settings,
    acquire: (resource) => client.acquireTokenForClient(resource),
    clientId: (token) =>
      identity !== undefined && 'clientId' in identity ? identity.clientId : appIdOf(token),
    close: () => client.close(),
  }
}

async function accountSource(
  flags: TokenSourceFlags,
  settings: CommonSettings,
  { io, apps, prompter }: CommandDeps,
): Promise<TokenSource> {
  // Only the option: a region from the environment or a profile is a default for app tokens.
  if (flags.region !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--region acts on client credentials only, not on a signed-in account',
    )
  }
  const app = await apps.publicApp(flags)
  let account: Account
  try {
    // Started in the background, serve has no one to ask.
    account = await chooseAccount(await app.getAccounts(), flags.account, {
      env: io.env,
      prompter: withoutPrompts(prompter),
    })
  } catch (error) {
    await app.close()
    throw error
  }
  const name = account.username || account.home_account_id
  return {
    holder: name,
    settings,
    acquire: async (resource) => {
      const result = await app
        .acquireTokenSilentWithError([resourceToScope(resource)], account)
        .catch((error: unknown) => {
          throw withSignInHint(error)
        })
      if (result === undefined) {
        throw new InteractionRequiredError(
          'no_token',
          `no token for ${name} can be had silently; run msal-ts login`,
        )
      }
      return result
    },
    clientId: () => settings.clientId,
    close: () => app.close(),
  }
}

/** The system-assigned identity's client id is known only to the token it was issued. */
function appIdOf(token: { access_token: string }): string {
  try {
    const claims = decodeJwt(token.access_token)
    const id = claims['appid'] ?? claims['azp']
    return typeof id === 'string' ? id : ''
  } catch {
    return ''
  }
}
