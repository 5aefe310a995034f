export {
  ManagedIdentityClient,
  managedIdentityAuthority,
  managedIdentityEnvironment,
  managedIdentityRealm,
  type ManagedIdentityClientOptions,
  type ManagedIdentityTokenOptions,
} from '../clients/managed-identity.js'
export { defaultImdsHost } from '../authority/imds.js'
export {
  identityCacheId,
  managedIdentitySource,
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
} from './sources.js'
