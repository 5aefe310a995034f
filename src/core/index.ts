/** msal-ts as a library: MSAL's ClientApplication family, its token cache and its building blocks. */
export {
  ClientApplication,
  type Account,
  type AuthenticationResult,
  type ClientApplicationOptions,
  type ClientTokenOptions,
} from './application.js'
export type { SilentOptions } from './silent.js'
export type { SharedClientOptions } from './client-options.js'
export { ConfidentialClientApplication } from './confidential-client.js'
export { popAuthScheme, type PopAuthScheme } from './pop.js'
export {
  PublicClientApplication,
  type DeviceFlow,
  type DeviceFlowOptions,
  type InteractiveOptions,
} from './public-client.js'
export {
  AuthorityBuilder,
  authorityBuilder,
  clouds,
  parseAuthority,
  type Authority,
  type AuthorityKind,
} from './authority.js'
export type { AssertionCredential, CertificateCredential, ClientCredential } from './client-auth.js'
export type { Clock } from './clock.js'
export {
  CancelledError,
  InteractionRequiredError,
  MsalTsError,
  OAuthServerError,
  RuntimeFailure,
  UsageError,
  type ErrorKind,
  type OAuthErrorBody,
} from './errors.js'
export { createHttpClient } from './http.js'
export type { HttpClient, HttpOptions, HttpRequest, HttpResponse } from './http-types.js'
export { redact, type LogEvent, type Logger } from './log.js'
export { memoryStore, type JsonStore } from './persistence.js'
export { openJsonFileStore, type JsonFileStore, type JsonFileStoreOptions } from './cache-store.js'
export { openRedisStore, type RedisStoreOptions, type RedisTarget } from './redis-store.js'
export { SerializableTokenCache, type TokenResponse } from './token-cache/token-cache.js'
export type * from './token-cache/schema.js'
export {
  ManagedIdentityClient,
  managedIdentitySource,
  type ManagedIdentityClientOptions,
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
  type ManagedIdentityTokenOptions,
} from './managed-identity/index.js'
export {
  azurePipelinesToken,
  defaultFederatedAudience,
  federatedTokenCredential,
  githubActionsToken,
  type FederatedTokenOptions,
  type FederatedTokenProvider,
} from './federated-token.js'
