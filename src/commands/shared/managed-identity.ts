import { UsageError } from '../../core/kernel/errors.js'
import { identityCacheId, type ManagedIdentityId } from '../../core/managed-identity/sources.js'
import {
  credentialOptions,
  type ManagedIdentityFlags,
  type ManagedIdentitySelection,
} from './app-identity-options.js'
import { commonOptions, longName } from './common-option-table.js'
import type { CommandDeps } from './deps.js'
import type { ManagedIdentityApp } from './managed-identity-app.js'
import { writeToken } from './output.js'
import { givenOptions } from './refuse-options.js'
import { resourceGiven } from './scope-options.js'
import { type CommonSettings, resolveCommon } from './settings.js'

/** A managed identity has no authority: its source alone issues the token. */
const authorityOptions = commonOptions.filter(({ flags }) =>
  [
    'authority',
    'tenant',
    'cloud',
    'oidc-authority',
    'validate-authority',
    'instance-discovery',
  ].includes(longName(flags).name),
)

/** `--object-id` and `--mi-resource-id` mean nothing without `--managed-identity`. */
export function refuseStrayIdentityOptions(flags: ManagedIdentitySelection): void {
  if (flags.objectId !== undefined || flags.miResourceId !== undefined) {
    throw new UsageError(
      'missing_option',
      '--object-id and --mi-resource-id go with --managed-identity',
    )
  }
}

/** The identity the flags select: `--client-id` (the flag, not AZURE_CLIENT_ID), `--object-id` or `--mi-resource-id`. */
export function selectedIdentity(flags: ManagedIdentitySelection): ManagedIdentityId | undefined {
  const given: ManagedIdentityId[] = []
  if (flags.clientId !== undefined) {
    given.push({ clientId: flags.clientId.trim() })
  }
  if (flags.objectId !== undefined) {
    given.push({ objectId: flags.objectId.trim() })
  }
  if (flags.miResourceId !== undefined) {
    given.push({ resourceId: flags.miResourceId.trim() })
  }
  if (given.length > 1) {
    throw new UsageError(
      'conflicting_options',
      'select a user-assigned identity by one of --client-id, --object-id or --mi-resource-id',
    )
  }
  const [id] = given
  if (id !== undefined && !identityCacheId(id)) {
    throw new UsageError('invalid_identity', 'the managed identity id is empty')
  }
  return id
}

/** `client-token --managed-identity`: a token for one resource, from the cache when it can. */
export async function runManagedIdentity(
  flags: ManagedIdentityFlags,
  deps: CommandDeps,
): Promise<void> {
  // Checked before a client is made: a usage error costs no connection.
  const resource = resourceOf(flags)
  const { client } = await openManagedIdentity(flags, deps, {
    inert: [
      ['--on-behalf-of', flags.onBehalfOf !== undefined],
      ['--client-claims', flags.clientClaims !== undefined],
    ],
  })
  try {
    const result = await client.acquireTokenForClient(resource, {
      ...(flags.forceRefresh ? { forceRefresh: true } : {}),
    })
    writeToken(deps.io, result, flags.output)
  } finally {
    await client.close()
  }
}

/**
 * The managed identity client the flags select, from the command's app factory; `inert` names
 * options of the calling command that a managed identity cannot act on, refused with the common ones.
 */
export async function openManagedIdentity(
  flags: ManagedIdentitySelection,
  { io, apps }: Pick<CommandDeps, 'io' | 'apps'>,
  { inert = [] }: { inert?: readonly (readonly [string, boolean])[] } = {},
): Promise<{
  client: ManagedIdentityApp
  identity: ManagedIdentityId | undefined
  settings: CommonSettings
}> {
  const conflicting = givenOptions(flags, credentialOptions)
  if (conflicting.length > 0) {
    throw new UsageError(
      'conflicting_credentials',
      `--managed-identity takes no client credential (${conflicting.join(', ')})`,
    )
  }
  const refused = [
    ...inert,
    // The sources take a resource and nothing else: no capabilities, scopes to drop or region.
    ['--capability', (flags.capability ?? []).length > 0],
    ['--exclude-scope', (flags.excludeScope ?? []).length > 0],
    ['--region', flags.region !== undefined],
    // MSAL sends no telemetry headers to the managed identity sources.
    ['--app-name', flags.appName !== undefined],
    ['--app-version', flags.appVersion !== undefined],
    // Only the options: a profile's or the environment's authority is a default for other commands.
    ...givenOptions(flags, authorityOptions).map((name) => [name, true] as const),
  ]
    .filter(([, given]) => given)
    .map(([name]) => name)
  if (refused.length > 0) {
    throw new UsageError(
      'conflicting_options',
      `--managed-identity cannot act on ${refused.join(', ')}`,
    )
  }
  const id = selectedIdentity(flags)
  // The common settings need a client id; with a managed identity that is the identity's.
  const settings = resolveCommon({ ...flags, clientId: identityCacheId(id) }, io)
  return { client: await apps.managedIdentityApp(settings, id), identity: id, settings }
}

/** One resource: `--resource <uri>`, or a single `--scope <uri>/.default`. */
function resourceOf(flags: ManagedIdentityFlags): string {
  const scopes = flags.scope.map((s) => s.trim()).filter(Boolean)
  if (flags.resource !== undefined && scopes.length > 0) {
    throw new UsageError('conflicting_options', 'give --scope or --resource, not both')
  }
  if (flags.resource !== undefined) {
    return resourceGiven(flags.resource)
  }
  if (scopes.length !== 1) {
    throw new UsageError(
      'missing_scope',
      'a managed identity token is for one resource: pass --resource <uri> (or one --scope <uri>/.default)',
    )
  }
  return (scopes[0] ?? '').replace(/\/\.default$/i, '')
}
