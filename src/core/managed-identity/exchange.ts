import {
  OAuthServerError,
  RuntimeFailure,
  UsageError,
  type OAuthErrorBody,
} from '../kernel/errors.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../http/types.js'
import type { Logger } from '../kernel/log.js'
import { checkTokenResponse } from '../protocol/token-response.js'

/** One request to a managed identity endpoint, and the reading of its answer, for every source. */

/** Which identity: system-assigned when absent, else one user-assigned identity by one of its ids. */
export type ManagedIdentityId = { clientId: string } | { objectId: string } | { resourceId: string }

export type ManagedIdentitySourceName =
  'ServiceFabric' | 'AppService' | 'MachineLearning' | 'AzureArc' | 'CloudShell' | 'Imds'

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
  /** Set once IMDS has answered a probe, so that one client probes it once. */
  imds: { answered: boolean }
  signal?: AbortSignal
}

const sourceNames: Record<ManagedIdentitySourceName, string> = {
  AppService: 'the App Service identity endpoint',
  MachineLearning: 'the Azure Machine Learning identity endpoint',
  CloudShell: 'the Cloud Shell identity endpoint',
  Imds: 'the instance metadata service',
  AzureArc: 'the Azure Arc identity endpoint',
  ServiceFabric: 'the Service Fabric identity endpoint',
}

/** The query parameter that carries a user-assigned id, per kind of id. */
export function selector(
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

/** `base` (from the environment variable `variable`) with `query` set on it. */
export function withQuery(base: string, variable: string, query: Record<string, string>): string {
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
export function redactedUrl(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

/** Nothing at the endpoint (refused, unresolvable, silent) means no managed identity here. */
export function unavailable(
  source: ManagedIdentitySourceName,
  url: string,
  error: unknown,
): unknown {
  if (
    error instanceof RuntimeFailure &&
    (error.code === 'connection_failed' || error.code === 'timeout')
  ) {
    return new RuntimeFailure(
      'managed_identity_unavailable',
      `no managed identity endpoint answered at ${new URL(url).host} (${sourceNames[source]}): ${error.message}`,
      { cause: error },
    )
  }
  return error
}

/** One request; a connection failure or timeout fails at once, without a retry of our own. */
export async function send(
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
    throw unavailable(source, request.url, error)
  }
}

/** Service Fabric's error codes as the OAuth errors MSAL Python maps them to. */
const serviceFabricErrors: Record<string, string> = {
  SecretHeaderNotFound: 'unauthorized_client',
  ManagedIdentityNotFound: 'invalid_client',
  ArgumentNullOrEmpty: 'invalid_scope',
}

/** The token in a 2xx answer, else the error the answer names. */
export function parse(
  response: HttpResponse,
  source: ManagedIdentitySourceName,
  now: number,
): ManagedIdentityToken {
  let body: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(response.body)
    body = asObject(parsed)
  } catch {
    body = undefined
  }
  if (response.status >= 200 && response.status <= 299 && body) {
    // The same checks as a token endpoint's answer: these tokens are cached and printed alike.
    const token = checkTokenResponse(body, { from: sourceNames[source], now })
    if (token.expires_in === undefined) {
      throw new RuntimeFailure(
        'invalid_response',
        `${sourceNames[source]} answered without the token's lifetime`,
      )
    }
    const resource = body['resource']
    return {
      access_token: token.access_token,
      token_type: token.token_type ?? 'Bearer',
      expires_in: token.expires_in,
      ...(typeof resource === 'string' ? { resource } : {}),
    }
  }
  if (body && typeof body['error'] === 'string') {
    // IMDS, Cloud Shell, Arc: an OAuth-shaped error. Only the fields meant for people are kept.
    const error: OAuthErrorBody = { error: body['error'] }
    if (typeof body['error_description'] === 'string') {
      error.error_description = body['error_description']
    }
    throw new OAuthServerError(response.status, error)
  }
  // Service Fabric: {"error": {"code": "...", "message": "..."}}.
  const nested = asObject(body?.['error'])
  const nestedMessage = typeof nested?.['message'] === 'string' ? nested['message'] : undefined
  if (source === 'ServiceFabric' && typeof nested?.['code'] === 'string') {
    const code = nested['code']
    throw new OAuthServerError(response.status, {
      error: serviceFabricErrors[code] ?? 'invalid_request',
      error_description: `${code}${nestedMessage ? `: ${firstLine(nestedMessage)}` : ''}`,
    })
  }
  // App Service: {"statusCode": 400, "message": "..."}.
  const message = typeof body?.['message'] === 'string' ? body['message'] : nestedMessage
  throw new RuntimeFailure(
    'managed_identity_failed',
    `${sourceNames[source]} answered ${response.status}${message ? `: ${firstLine(message)}` : ''}`,
  )
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? '').trim().slice(0, 300)
}
