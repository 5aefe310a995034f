/** msal-ts as a library: MSAL's ClientApplication family, its token cache and its building blocks. */
export { ClientApplication } from './clients/application.js'
export type { Account, AuthenticationResult } from './protocol/result.js'
export type {
  ClientApplicationOptions,
  ClientTokenOptions,
  SharedClientOptions,
} from './session/client-options.js'
export type { SilentOptions } from './session/silent.js'
export { ConfidentialClientApplication } from './clients/confidential-client.js'
export { popAuthScheme, type PopAuthScheme } from './protocol/pop.js'
export {
  PublicClientApplication,
  type DeviceFlowOptions,
  type InteractiveOptions,
} from './clients/public-client.js'
export type { DeviceFlow } from './grants/device-code.js'
export {
  AuthorityBuilder,
  authorityBuilder,
  clouds,
  parseAuthority,
  type Authority,
  type AuthorityKind,
} from './authority/authority.js'
export type {
  AssertionCredential,
  CertificateCredential,
  ClientCredential,
} from './credentials/client-auth.js'
export type { Clock } from './kernel/clock.js'
export {
  CancelledError,
  InteractionRequiredError,
  MsalTsError,
  OAuthServerError,
  RuntimeFailure,
  UsageError,
  type ErrorHint,
  type ErrorKind,
  type OAuthErrorBody,
} from './kernel/errors.js'
export { createHttpClient } from './http/client.js'
export type { HttpClient, HttpOptions, HttpRequest, HttpResponse } from './http/types.js'
export { redact, type LogEvent, type Logger } from './kernel/log.js'
export { memoryStore, type JsonStore } from './kernel/json-store.js'
export {
  openJsonFileStore,
  type JsonFileStore,
  type JsonFileStoreOptions,
} from './storage/cache-store.js'
export { openRedisStore, type RedisStoreOptions, type RedisTarget } from './storage/redis-store.js'
export { SerializableTokenCache } from './token-cache/token-cache.js'
export type { TokenResponse } from './protocol/token-response.js'
export type * from './token-cache/schema.js'
export { ManagedIdentityClient } from './clients/managed-identity.js'
export type {
  ManagedIdentityClientOptions,
  ManagedIdentityTokenOptions,
} from './clients/managed-identity-options.js'
export {
  managedIdentitySource,
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
} from './managed-identity/sources.js'
export { federatedTokenCredential } from './clients/federated-token.js'
export {
  azurePipelinesToken,
  defaultFederatedAudience,
  githubActionsToken,
  type FederatedTokenOptions,
  type FederatedTokenProvider,
} from './credentials/federated-token.js'
