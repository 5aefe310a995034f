import { existsSync } from 'node:fs'
import { OAuthServerError, RuntimeFailure, UsageError, type OAuthErrorBody } from '../errors.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../http-types.js'
import type { Logger } from '../log.js'

/**
 * The managed identity endpoints, chosen from the environment in MSAL's order (msal/managed_identity.py
 * `get_managed_identity_source`): Service Fabric, App Service, Machine Learning, Azure Arc, Cloud
 * Shell, else the instance metadata service (IMDS) of a VM.
 */

/** Which identity: system-assigned when absent, else one user-assigned identity by one of its ids. */
export type ManagedIdentityId = { clientId: string } | { objectId: string } | { resourceId: string }

export type ManagedIdentitySourceName =
  'ServiceFabric' | 'AppService' | 'MachineLearning' | 'AzureArc' | 'CloudShell' | 'Imds'

/** MSAL Python's fallback when IMDS is not overridden. */
export const defaultImdsHost = 'http://169.254.169.254'
const imdsPath = '/metadata/identity/oauth2/token'

/** IMDS answers worth another try (MSAL's ImdsRetryPolicy list): 404, 408, 410, 429 and 5xx. */
export function isRetriableImdsStatus(status: number): boolean {
  return [404, 408, 410, 429].includes(status) || (status >= 500 && status <= 599)
}

/** A short back-off between IMDS attempts; three retries, as MSAL. */
export const defaultImdsRetryDelaysMs = [250, 500, 1000]

export function managedIdentitySource(
  env: Record<string, string | undefined>,
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
  if (
    (has('IDENTITY_ENDPOINT') && has('IMDS_ENDPOINT')) ||
    (process.platform === 'linux' && existsSync('/var/opt/azcmagent/bin/himds'))
  ) {
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

/** A normalised token answer: what the cache and the caller need. */
export interface ManagedIdentityToken {
  access_token: string
  token_type: string
  expires_in: number
  resource?: string
}

export interface SourceContext {
  http: HttpClient
  env: Record<string, string | undefined>
  log: Logger
  now: () => number
  retryDelaysMs: readonly number[]
  signal?: AbortSignal
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
      const url = withQuery(env['IDENTITY_ENDPOINT'] ?? '', 'IDENTITY_ENDPOINT', {
        'api-version': '2019-08-01',
        resource,
        ...selector(id, { clientId: 'client_id', objectId: 'object_id', resourceId: 'mi_res_id' }),
      })
      const response = await send(context, source, {
        method: 'GET',
        url,
        headers: { 'x-identity-header': env['IDENTITY_HEADER'] ?? '', metadata: 'true' },
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
    case 'ServiceFabric':
    case 'AzureArc':
      throw new RuntimeFailure(
        'unsupported_source',
        `managed identity on ${source === 'AzureArc' ? 'Azure Arc' : 'Service Fabric'} is not supported by msal-ts yet`,
      )
    case 'Imds':
      return imdsToken(context, id, resource)
  }
}

async function imdsToken(
  context: SourceContext,
  id: ManagedIdentityId | undefined,
  resource: string,
): Promise<ManagedIdentityToken> {
  const host = (context.env['AZURE_POD_IDENTITY_AUTHORITY_HOST'] || defaultImdsHost).replace(
    /\/+$/,
    '',
  )
  const endpoint = context.env['MSAL_MANAGED_IDENTITY_ENDPOINT'] || `${host}${imdsPath}`
  const url = withQuery(endpoint, 'AZURE_POD_IDENTITY_AUTHORITY_HOST', {
    'api-version': '2018-02-01',
    resource,
    ...selector(id, { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' }),
  })
  const request: HttpRequest = { method: 'GET', url, headers: { metadata: 'true' } }
  for (let attempt = 0; ; attempt++) {
    const response = await send(context, 'Imds', request)
    const delay = context.retryDelaysMs[attempt]
    if (!isRetriableImdsStatus(response.status) || delay === undefined) {
      return parse(response, 'Imds', context.now())
    }
    context.log({
      kind: 'retry',
      url: redactedUrl(url),
      reason: `status ${response.status}`,
      waitMs: delay,
    })
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

function selector(
  id: ManagedIdentityId | undefined,
  names: { clientId: string; objectId: string; resourceId: string },
): Record<string, string> {
  if (id === undefined) {
    return {}
  }
  if ('clientId' in id) {
    return { [names.clientId]: id.clientId }
  }
  if ('objectId' in id) {
    return { [names.objectId]: id.objectId }
  }
  return { [names.resourceId]: id.resourceId }
}

function withQuery(base: string, variable: string, query: Record<string, string>): string {
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new UsageError('invalid_environment', `${variable} is not a URL: ${JSON.stringify(base)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('invalid_environment', `${variable} must be an http(s) URL`)
  }
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, value)
  }
  return url.toString()
}

/** The URL for a log line: without the query, which can name the identity. */
function redactedUrl(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

const sourceNames: Record<ManagedIdentitySourceName, string> = {
  AppService: 'the App Service identity endpoint',
  MachineLearning: 'the Azure Machine Learning identity endpoint',
  CloudShell: 'the Cloud Shell identity endpoint',
  Imds: 'the instance metadata service',
  AzureArc: 'the Azure Arc identity endpoint',
  ServiceFabric: 'the Service Fabric identity endpoint',
}

/** A connection failure or timeout means there is no managed identity here: fail at once, no retry. */
async function send(
  context: SourceContext,
  source: ManagedIdentitySourceName,
  request: HttpRequest,
): Promise<HttpResponse> {
  try {
    return await context.http.request({
      ...request,
      ...(context.signal ? { signal: context.signal } : {}),
    })
  } catch (error) {
    if (error instanceof RuntimeFailure) {
      const where = new URL(request.url).host
      throw new RuntimeFailure(
        'managed_identity_unavailable',
        `no managed identity endpoint answered at ${where} (${sourceNames[source]}): ${error.message}`,
        { cause: error },
      )
    }
    throw error
  }
}

function parse(
  response: HttpResponse,
  source: ManagedIdentitySourceName,
  now: number,
): ManagedIdentityToken {
  let body: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(response.body)
    body =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined
  } catch {
    body = undefined
  }
  if (response.status >= 200 && response.status <= 299 && body) {
    const accessToken = body['access_token']
    const expiresIn = toInt(body['expires_in']) ?? minus(toInt(body['expires_on']), now)
    if (typeof accessToken === 'string' && accessToken !== '' && expiresIn !== undefined) {
      return {
        access_token: accessToken,
        token_type: typeof body['token_type'] === 'string' ? body['token_type'] : 'Bearer',
        expires_in: expiresIn,
        ...(typeof body['resource'] === 'string' ? { resource: body['resource'] } : {}),
      }
    }
    throw new RuntimeFailure(
      'invalid_response',
      `${sourceNames[source]} answered without an access token and its lifetime`,
    )
  }
  if (body && typeof body['error'] === 'string') {
    // IMDS, Cloud Shell: an OAuth-shaped error. Only the fields meant for people are kept.
    const error: OAuthErrorBody = { error: body['error'] }
    if (typeof body['error_description'] === 'string') {
      error.error_description = body['error_description']
    }
    throw new OAuthServerError(response.status, error)
  }
  // App Service: {"statusCode": 400, "message": "..."}; Service Fabric: {"error": {"code": ...}}.
  const message =
    body && typeof body['message'] === 'string'
      ? body['message']
      : body &&
          typeof (body['error'] as Record<string, unknown> | undefined)?.['message'] === 'string'
        ? String((body['error'] as Record<string, unknown>)['message'])
        : undefined
  throw new RuntimeFailure(
    'managed_identity_failed',
    `${sourceNames[source]} answered ${response.status}${message ? `: ${firstLine(message)}` : ''}`,
  )
}

function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? '').trim().slice(0, 300)
}

function minus(epoch: number | undefined, now: number): number | undefined {
  return epoch === undefined ? undefined : epoch - now
}

function toInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : undefined
}
