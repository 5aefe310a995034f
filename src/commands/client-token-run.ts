/** What `client-token` does, loaded when it runs (client-token.ts declares the command). */
import { UsageError } from '../core/kernel/errors.js'
import { type CommonSettings, resolveCommon } from './shared/settings.js'
import { readText, refuseClientCredentialMisfits, resolveCredential } from './shared/credential.js'
import type { CommandDeps } from './shared/deps.js'
import { type Io, readStdin } from './shared/io.js'
import { federationHttpClient } from './shared/federated-token.js'
import type { ManagedIdentityFlags } from './shared/app-identity-options.js'
import { refuseStrayIdentityOptions, runManagedIdentity } from './shared/managed-identity.js'
import { writeToken } from './shared/output.js'
import { parseJsonObject, resourceScope, scopesFrom } from './shared/scope-options.js'

/** Every client-token option; the managed identity path reads the same set. */
type ClientTokenFlags = ManagedIdentityFlags

/**
 * `excludeScopeGoesWith` names where --exclude-scope acts for the calling command: client-token's
 * own --on-behalf-of, or a signed-in account for a command that runs this one for app tokens.
 */
export async function runClientToken(
  flags: ClientTokenFlags,
  deps: CommandDeps,
  { excludeScopeGoesWith = '--on-behalf-of' }: { excludeScopeGoesWith?: string } = {},
): Promise<void> {
  const { io } = deps
  if (flags.managedIdentity) {
    return runManagedIdentity(flags, deps)
  }
  refuseStrayIdentityOptions(flags)
  const scopes = scopesFrom(flags.scope, resourceScope(flags.resource))
  const settings = resolveCommon(flags, io)
  refuseInertOptions(flags, settings, excludeScopeGoesWith)
  const clientClaims =
    flags.clientClaims === undefined
      ? undefined
      : parseJsonObject(flags.clientClaims, '--client-claims')
  if (flags.onBehalfOf === '-' && (flags.clientSecretStdin || flags.certificatePasswordStdin)) {
    throw new UsageError(
      'conflicting_options',
      'stdin can carry the user token or a secret, not both',
    )
  }
  const federationHttp = federationHttpClient(flags, settings, io)
  try {
    await acquire(flags, deps, scopes, settings, clientClaims, federationHttp)
  } finally {
    await federationHttp?.close()
  }
}

async function acquire(
  flags: ClientTokenFlags,
  { io, apps }: CommandDeps,
  scopes: string[],
  settings: ReturnType<typeof resolveCommon>,
  clientClaims: Record<string, unknown> | undefined,
  federationHttp: ReturnType<typeof federationHttpClient>,
): Promise<void> {
  const credential = await resolveCredential(
    flags,
    io,
    federationHttp ? { httpClient: federationHttp } : {},
  )
  if (clientClaims && (typeof credential === 'string' || 'clientAssertion' in credential)) {
    // A secret is sent as it is, and an assertion signed elsewhere cannot take claims added here.
    const other = typeof credential === 'string' ? 'a client secret' : assertionSource(flags)
    throw new UsageError(
      'conflicting_options',
      `--client-claims goes with a certificate credential, not with ${other}`,
    )
  }
  const app = await apps.confidentialApp(settings, {
    clientCredential: credential,
    ...(clientClaims ? { clientClaims } : {}),
  })
  try {
    const result =
      flags.onBehalfOf === undefined
        ? await app.acquireTokenForClient(scopes, {
            ...(flags.forceRefresh ? { forceRefresh: true } : {}),
          })
        : await app.acquireTokenOnBehalfOf(await userAssertion(flags, io), scopes, {
            ...(flags.forceRefresh ? { forceRefresh: true } : {}),
          })
    writeToken(io, result, flags.output)
  } finally {
    await app.close()
  }
}

/**
 * On behalf of a user, --exclude-scope has reserved scopes to drop (MSAL decorates user flows
 * only) and --region nothing to act on; with client credentials, the other way round.
 */
function refuseInertOptions(
  flags: ClientTokenFlags,
  settings: CommonSettings,
  excludeScopeGoesWith: string,
): void {
  if (flags.onBehalfOf === undefined) {
    refuseClientCredentialMisfits(settings, { excludeScopeGoesWith })
  } else if (flags.region !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--region acts on client credentials only, not with --on-behalf-of',
    )
  }
}

/** The option (or variable) the client assertion came from, to name it in a refusal. */
function assertionSource(flags: ClientTokenFlags): string {
  if (flags.clientAssertion !== undefined) {
    return '--client-assertion'
  }
  if (flags.clientAssertionFile !== undefined) {
    return '--client-assertion-file'
  }
  return flags.federatedToken !== undefined ? '--federated-token' : 'AZURE_FEDERATED_TOKEN_FILE'
}

async function userAssertion(flags: ClientTokenFlags, io: Io): Promise<string> {
  const path = flags.onBehalfOf ?? '-'
  return (path === '-' ? await readStdin(io) : await readText(path, 'user token file')).trim()
}
