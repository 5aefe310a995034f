import { Command, Option } from 'commander'
import { ConfidentialClientApplication } from '../core/confidential-client.js'
import { UsageError } from '../core/errors.js'
import { resourceToScope } from '../core/scopes.js'
import { applicationOptions } from './shared/app.js'
import { addCommonOptions } from './shared/common-options.js'
import { type CommonFlags, resolveCommon } from './shared/settings.js'
import {
  addCredentialOptions,
  type CredentialFlags,
  readText,
  resolveCredential,
} from './shared/credential.js'
import { type Io, readStdin } from './shared/io.js'
import { type TokenFormat, tokenFormats, writeToken } from './shared/output.js'
import { parseJsonObject, scopesFrom } from './shared/scope-options.js'

interface ClientTokenFlags extends CommonFlags, CredentialFlags {
  scope: string[]
  resource?: string
  clientClaims?: string
  forceRefresh?: boolean
  onBehalfOf?: string
  output: TokenFormat
}

const examples = `
Examples:
  # A Graph token for a CI job, the secret from the environment
  AZURE_CLIENT_SECRET=... msal-ts client-token -c <app-id> -t <tenant> --resource https://graph.microsoft.com

  # Certificate credential, token as a ready curl header
  msal-ts client-token -c <app-id> -t <tenant> --certificate app.pem \\
    --scope https://graph.microsoft.com/.default -o header | curl -H @- https://graph.microsoft.com/v1.0/users

  # Workload identity federation (Kubernetes, CI): the token file is read afresh every run
  msal-ts client-token -c <app-id> -t <tenant> --client-assertion-file $AZURE_FEDERATED_TOKEN_FILE --resource api://my-api`

export function clientTokenCommand(io: Io): Command {
  const command = new Command('client-token')
    .description('get an app-only token with client credentials (secret, certificate or assertion)')
    .option(
      '-s, --scope <scope>',
      'scope, e.g. https://graph.microsoft.com/.default (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--resource <uri>', 'resource URI: the scope <uri>/.default')
    .option('--client-claims <json>', 'extra claims for the certificate assertion (JSON object)')
    .option('--force-refresh', 'ignore the cached token')
    .option(
      '--on-behalf-of <file>',
      'on-behalf-of: a file holding the incoming user token, or - for stdin',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(tokenFormats).default('raw'),
    )
  addCredentialOptions(command)
  addCommonOptions(command)
  command.addHelpText('after', examples)
  return command.action(async (flags: ClientTokenFlags) => runClientToken(flags, io))
}

export async function runClientToken(flags: ClientTokenFlags, io: Io): Promise<void> {
  const scopes = scopesFrom(
    flags.scope,
    flags.resource === undefined ? undefined : resourceToScope(flags.resource),
  )
  const settings = resolveCommon(flags, io)
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
  const credential = await resolveCredential(flags, io)
  if (clientClaims && typeof credential === 'string') {
    throw new UsageError('invalid_option', '--client-claims goes with a certificate credential')
  }
  const app = new ConfidentialClientApplication({
    ...applicationOptions(settings, io),
    clientCredential: credential,
    ...(clientClaims ? { clientClaims } : {}),
  })
  try {
    const result =
      flags.onBehalfOf === undefined
        ? await app.acquireTokenForClient(scopes, {
            ...(flags.forceRefresh ? { forceRefresh: true } : {}),
          })
        : await app.acquireTokenOnBehalfOf(await userAssertion(flags, io), scopes)
    writeToken(io, result, flags.output)
  } finally {
    await app.close()
  }
}

async function userAssertion(flags: ClientTokenFlags, io: Io): Promise<string> {
  const path = flags.onBehalfOf ?? '-'
  return (path === '-' ? await readStdin(io) : await readText(path, 'user token file')).trim()
}
