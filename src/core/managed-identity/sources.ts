import { existsSync } from 'node:fs'
import { UsageError } from '../kernel/errors.js'
import { arcToken, himdsPaths } from './azure-arc.js'
import {
  type ManagedIdentityId,
  type ManagedIdentitySourceName,
  type ManagedIdentityToken,
  parse,
  selector,
  send,
  type SourceContext,
  withQuery,
} from './exchange.js'
import { imdsToken } from './imds-token.js'

export type { ManagedIdentityId, ManagedIdentitySourceName, SourceContext } from './exchange.js'
export { defaultImdsRetryDelaysMs } from './imds-token.js'

/**
 * The managed identity endpoints, chosen from the environment in MSAL's order (msal/managed_identity.py
 * `get_managed_identity_source`): Service Fabric, App Service, Machine Learning, Azure Arc, Cloud
 * Shell, else the instance metadata service (IMDS) of a VM.
 */
export function managedIdentitySource(
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean = existsSync,
): ManagedIdentitySourceName {
  const has = (name: string) => Boolean(env[name])
  if (has('IDENTITY_ENDPOINT') && has('IDENTITY_HEADER') && has('IDENTITY_SERVER_THUMBPRINT')) {
    return 'ServiceFabric'
  }
  if (has('IDENTITY_ENDPOINT') && has('IDENTITY_HEADER')) {
    return 'AppService'
  }
  if (has('MSI_ENDPOINT') && has('MSI_SECRET')) {
    return 'MachineLearning'
  }
  if ((has('IDENTITY_ENDPOINT') && has('IMDS_ENDPOINT')) || himdsPaths(env).some(exists)) {
    return 'AzureArc'
  }
  if (has('MSI_ENDPOINT')) {
    return 'CloudShell'
  }
  return 'Imds'
}

/** The identity's id as the token cache keeps it (`client_id` of the AccessToken entry). */
export function identityCacheId(id: ManagedIdentityId | undefined): string {
  if (id === undefined) {
    // msal-node's DEFAULT_MANAGED_IDENTITY_ID (MSAL Python: SYSTEM_ASSIGNED_MANAGED_IDENTITY).
    return 'system_assigned_managed_identity'
  }
  return 'clientId' in id ? id.clientId : 'objectId' in id ? id.objectId : id.resourceId
}

/** One token from the source the environment names. */
export async function obtainToken(
  context: SourceContext,
  id: ManagedIdentityId | undefined,
  resource: string,
): Promise<ManagedIdentityToken> {
  const source = managedIdentitySource(context.env)
  const env = context.env
  switch (source) {
    case 'AppService': {
      const url = identityEndpointUrl(env, '2019-08-01', id, resource)
      const response = await send(context, source, {
        method: 'GET',
        url,
        headers: { 'x-identity-header': env['IDENTITY_HEADER'] ?? '', metadata: 'true' },
      })
      return parse(response, source, context.now())
    }
    case 'ServiceFabric': {
      const thumbprint = serverThumbprint(env['IDENTITY_SERVER_THUMBPRINT'] ?? '')
      if (id !== undefined) {
        context.log({
          kind: 'warning',
          message:
            'Service Fabric grants user-assigned identities in the cluster configuration: the id is passed on, and the cluster decides',
        })
      }
      const url = identityEndpointUrl(env, '2019-07-01-preview', id, resource)
      const response = await send(context, source, {
        method: 'GET',
        url,
        headers: { secret: env['IDENTITY_HEADER'] ?? '' },
        serverCertificateSha1: thumbprint,
      })
      return parse(response, source, context.now())
    }
    case 'MachineLearning': {
      // Azure ML's 2017 API spells the user-assigned id `clientid` (MSAL Python, from Azure Identity).
      if (id !== undefined && !('clientId' in id)) {
        throw new UsageError(
          'unsupported_identity',
          'Azure Machine Learning selects a user-assigned identity by its client id only',
        )
      }
      const url = withQuery(env['MSI_ENDPOINT'] ?? '', 'MSI_ENDPOINT', {
        'api-version': '2017-09-01',
        resource,
        ...(id ? { clientid: id.clientId } : {}),
      })
      const response = await send(context, source, {
        method: 'GET',
        url,
        headers: { secret: env['MSI_SECRET'] ?? '' },
      })
      return parse(response, source, context.now())
    }
    case 'CloudShell': {
      if (id !== undefined) {
        throw new UsageError(
          'unsupported_identity',
          'Cloud Shell has only its signed-in identity; a user-assigned identity cannot be chosen',
        )
      }
      const url = withQuery(env['MSI_ENDPOINT'] ?? '', 'MSI_ENDPOINT', {})
      const response = await send(context, source, {
        method: 'POST',
        url,
        headers: { metadata: 'true' },
        form: { resource },
      })
      return parse(response, source, context.now())
    }
    case 'AzureArc':
      return arcToken(context, id, resource)
    case 'Imds':
      return imdsToken(context, id, resource)
  }
}

/** App Service's and Service Fabric's IDENTITY_ENDPOINT, asked for `resource` in `apiVersion`. */
function identityEndpointUrl(
  env: Record<string, string | undefined>,
  apiVersion: string,
  id: ManagedIdentityId | undefined,
  resource: string,
): string {
  return withQuery(env['IDENTITY_ENDPOINT'] ?? '', 'IDENTITY_ENDPOINT', {
    'api-version': apiVersion,
    resource,
    ...selector(id, { clientId: 'client_id', objectId: 'object_id', resourceId: 'mi_res_id' }),
  })
}

/**
 * Service Fabric's token service has a self-signed certificate that the cluster names by its SHA-1
 * thumbprint; that certificate, and no other, is trusted (as MSAL.NET and Azure Identity check it).
 */
function serverThumbprint(value: string): string {
  const hex = value.replace(/[\s:]/g, '').toLowerCase()
  if (!/^[0-9a-f]{40}$/.test(hex)) {
    throw new UsageError(
      'invalid_environment',
      'IDENTITY_SERVER_THUMBPRINT is not a SHA-1 thumbprint (40 hex digits)',
    )
  }
  return hex
}
