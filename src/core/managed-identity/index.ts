export {
  ManagedIdentityClient,
  managedIdentityAuthority,
  managedIdentityEnvironment,
  managedIdentityRealm,
  type ManagedIdentityClientOptions,
  type ManagedIdentityTokenOptions,
} from './client.js'
export { defaultImdsHost } from '../imds.js'
export {
  identityCacheId,
  managedIdentitySource,
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
} from './sources.js'
