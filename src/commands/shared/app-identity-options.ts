/**
 * Who an app is, as options: a client credential (secret, certificate, assertion, federated token)
 * or a managed identity. Plain data, apart from the code that acts on them, so that a command's
 * help builds its options without loading credential or HTTP code.
 */
import type { ClientTokenOwnFlags } from '../client-token-options.js'
import type { FlagsOf, OptionDeclaration } from './common-option-table.js'
import type { CommonFlags } from './settings.js'

/** `--federated-token github|azure-pipelines|file:<path>` and its companions. */
export const federatedOptions = [
  {
    flags: '--federated-token <source>',
    description:
      'client assertion from the CI runtime: github, azure-pipelines, or file:<path> (fetched at each token request, never cached)',
  },
  {
    flags: '--federated-audience <aud>',
    description: 'audience of the GitHub Actions token (default api://AzureADTokenExchange)',
  },
  {
    flags: '--service-connection-id <id>',
    description:
      'Azure Pipelines service connection [env: AZURESUBSCRIPTION_SERVICE_CONNECTION_ID]',
  },
] as const satisfies readonly OptionDeclaration[]

export type FederatedFlags = FlagsOf<typeof federatedOptions>

/** The credential options of `client-token` (and of confidential `redeem`), in help order. */
export const credentialOptions = [
  {
    flags: '--client-secret <secret>',
    description:
      'client secret (visible to other users in the process list; prefer the stdin or env forms)',
  },
  {
    flags: '--client-secret-stdin',
    description:
      'read the client secret from stdin [env: MSAL_TS_CLIENT_SECRET, AZURE_CLIENT_SECRET]',
  },
  { flags: '--client-secret-file <path>', description: 'read the client secret from a file' },
  {
    flags: '--certificate <pem>',
    description:
      'PEM file with the private key and certificate [env: AZURE_CLIENT_CERTIFICATE_PATH]',
  },
  {
    flags: '--private-key <pem>',
    description: 'PEM private key, when --certificate holds only the certificate',
  },
  {
    flags: '--certificate-password-stdin',
    description:
      'read the private key password from stdin [env: AZURE_CLIENT_CERTIFICATE_PASSWORD]',
  },
  {
    flags: '--thumbprint <hex>',
    description: 'SHA-1 thumbprint of the certificate (computed when absent)',
  },
  {
    flags: '--send-x5c',
    description:
      'send the certificate chain in the assertion (x5c) [env: AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true]',
  },
  { flags: '--client-assertion <jwt>', description: 'a signed client assertion' },
  {
    flags: '--client-assertion-file <path>',
    description:
      'file holding a client assertion, read afresh on every run [env: AZURE_FEDERATED_TOKEN_FILE]',
  },
  ...federatedOptions,
] as const satisfies readonly OptionDeclaration[]

export type CredentialFlags = FlagsOf<typeof credentialOptions>

export const managedIdentityOptions = [
  {
    flags: '--managed-identity',
    description:
      "the machine's managed identity (App Service, Service Fabric, Azure ML, Azure Arc, Cloud Shell, or else VM/IMDS, whose host AZURE_POD_IDENTITY_AUTHORITY_HOST moves); with the --client-id option (not AZURE_CLIENT_ID), a user-assigned identity",
  },
  {
    flags: '--object-id <id>',
    description: 'with --managed-identity: a user-assigned identity by object id',
  },
  {
    flags: '--mi-resource-id <id>',
    description: 'with --managed-identity: a user-assigned identity by its Azure resource id',
  },
] as const satisfies readonly OptionDeclaration[]

/** Who the app is: a client credential, or a managed identity. In help order. */
export const appIdentityOptions = [
  ...credentialOptions,
  ...managedIdentityOptions,
] as const satisfies readonly OptionDeclaration[]

/** The options that pick a managed identity, and the credential options it refuses. */
export type ManagedIdentitySelection = CommonFlags & FlagsOf<typeof appIdentityOptions>

/** The options of `client-token`, which this path serves with --managed-identity. */
export type ManagedIdentityFlags = ManagedIdentitySelection & ClientTokenOwnFlags
