import type { AssertionCredential } from '../credentials/client-auth.js'
import {
  federatedTokenCredentialIn,
  type FederatedTokenOptions,
  type FederatedTokenProvider,
} from '../credentials/federated-token.js'

/**
 * A client-assertion credential whose assertion is the CI job's OIDC token, asked for afresh at every
 * token request (a cache hit asks for nothing). The environment is checked here, at once: a missing
 * variable is a usage error naming it.
 */
export function federatedTokenCredential(
  provider: FederatedTokenProvider,
  options: FederatedTokenOptions = {},
): AssertionCredential {
  const { env, ...rest } = options
  // The public entry point is the one place the process environment is read: the CI runtime's
  // variables (ACTIONS_ID_TOKEN_REQUEST_*, SYSTEM_OIDCREQUESTURI, ...) live there.
  return federatedTokenCredentialIn(env ?? process.env, provider, rest)
}
