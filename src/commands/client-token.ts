import type { Command } from 'commander'
import { clientTokenOwnOptions } from './client-token-options.js'
import { commandFrom } from './shared/command-from-table.js'
import type { CommandDeps } from './shared/deps.js'
import { appIdentityOptions, type ManagedIdentityFlags } from './shared/app-identity-options.js'

const examples = `
Examples:
  # A Graph token for a CI job, the secret from the environment
  AZURE_CLIENT_SECRET=... msal-ts client-token -c <app-id> -t <tenant> --resource https://graph.microsoft.com

  # Certificate credential, token as a ready curl header
  msal-ts client-token -c <app-id> -t <tenant> --certificate app.pem \\
    --scope https://graph.microsoft.com/.default -o header | curl -H @- https://graph.microsoft.com/v1.0/users

  # Workload identity federation (Kubernetes, CI): the token file is read afresh every run
  msal-ts client-token -c <app-id> -t <tenant> --client-assertion-file $AZURE_FEDERATED_TOKEN_FILE --resource api://my-api

  # GitHub Actions (permissions: id-token: write) or Azure Pipelines: the job's OIDC token is the credential
  msal-ts client-token -c <app-id> -t <tenant> --federated-token github --resource https://management.azure.com
  msal-ts client-token -c <app-id> -t <tenant> --federated-token azure-pipelines --service-connection-id <id> --resource https://vault.azure.net

  # Managed identity (system-assigned, or user-assigned with --client-id / --object-id / --mi-resource-id)
  msal-ts client-token --managed-identity --resource https://vault.azure.net`

export function clientTokenCommand(deps: CommandDeps): Command {
  return commandFrom({
    name: 'client-token',
    description: 'get an app-only token with client credentials (secret, certificate or assertion)',
    options: [...clientTokenOwnOptions, ...appIdentityOptions],
    requests: 'app-tokens',
    examples,
    // What runs is loaded only to run: help needs none of the credential or HTTP code.
  }).action(async (flags: ManagedIdentityFlags) =>
    (await import('./client-token-run.js')).runClientToken(flags, deps),
  )
}
