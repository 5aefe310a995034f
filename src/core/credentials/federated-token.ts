import type { AssertionCredential } from './client-auth.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import { createHttpClient } from '../http/client.js'
import type { HttpClient, HttpResponse } from '../http/types.js'

/**
 * Workload identity federation from a CI runtime: the job's own OIDC token, fetched from the runtime
 * at each token request, becomes the client assertion. Nothing here caches or logs the token.
 */

/** The audience Entra expects in a federated token unless the federated credential says otherwise. */
export const defaultFederatedAudience = 'api://AzureADTokenExchange'

/** The Azure Pipelines OIDC endpoint's API version (what the Azure SDKs use). */
const azurePipelinesApiVersion = '7.1'

export type FederatedTokenProvider = 'github' | 'azure-pipelines'

export interface FederatedTokenOptions {
  /** Where the variables come from; default the process environment. */
  env?: Record<string, string | undefined>
  /** The HTTP client the runtime is asked through; default a fresh `createHttpClient()`. */
  httpClient?: HttpClient
  /** GitHub only: the `aud` of the token; default `api://AzureADTokenExchange`. */
  audience?: string
  /**
   * Azure Pipelines only: the service connection id; default env
   * `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` (set by the AzureCLI@2 and AzurePowerShell@5 tasks).
   */
  serviceConnectionId?: string
  /** Ends a runtime request early. */
  signal?: AbortSignal
}

/**
 * A client-assertion credential whose assertion is the CI job's OIDC token, asked for afresh at every
 * token request (a cache hit asks for nothing). `env` is checked here, at once: a missing variable is
 * a usage error naming it.
 */
export function federatedTokenCredentialIn(
  env: Record<string, string | undefined>,
  provider: FederatedTokenProvider,
  options: Omit<FederatedTokenOptions, 'env'> = {},
): AssertionCredential {
  // Without a client of the caller's, each fetch uses its own and closes it, so nothing lingers.
  const withHttp = async (fetch: (http: HttpClient) => Promise<string>): Promise<string> => {
    if (options.httpClient) {
      return fetch(options.httpClient)
    }
    const own = createHttpClient()
    try {
      return await fetch(own)
    } finally {
      await own.close()
    }
  }
  switch (provider) {
    case 'github': {
      const url = requireEnv(env, 'ACTIONS_ID_TOKEN_REQUEST_URL', 'github')
      const token = requireEnv(env, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'github')
      const audience = options.audience ?? defaultFederatedAudience
      return {
        clientAssertion: () =>
          withHttp((http) =>
            githubActionsToken(http, { url, token, audience, signal: options.signal }),
          ),
      }
    }
    case 'azure-pipelines': {
      const uri = requireEnv(env, 'SYSTEM_OIDCREQUESTURI', 'azure-pipelines')
      const token = requireEnv(env, 'SYSTEM_ACCESSTOKEN', 'azure-pipelines')
      const serviceConnectionId =
        options.serviceConnectionId ?? env['AZURESUBSCRIPTION_SERVICE_CONNECTION_ID']
      if (!serviceConnectionId?.trim()) {
        throw new UsageError(
          'missing_environment',
          'azure-pipelines federation needs the service connection id, and AZURESUBSCRIPTION_SERVICE_CONNECTION_ID is not set',
          { hint: 'service_connection_id' },
        )
      }
      return {
        clientAssertion: () =>
          withHttp((http) =>
            azurePipelinesToken(http, {
              uri,
              token,
              serviceConnectionId: serviceConnectionId.trim(),
              signal: options.signal,
            }),
          ),
      }
    }
    default:
      throw new UsageError(
        'invalid_federated_token',
        `unknown federated token source ${JSON.stringify(provider)}: use github, azure-pipelines or file:<path>`,
      )
  }
}

function requireEnv(
  env: Record<string, string | undefined>,
  name: string,
  provider: FederatedTokenProvider,
): string {
  const value = env[name]?.trim()
  if (!value) {
    const hint =
      provider === 'github'
        ? ' (the workflow needs "permissions: id-token: write")'
        : ' (map it into the step: env: SYSTEM_ACCESSTOKEN: $(System.AccessToken))'
    throw new UsageError(
      'missing_environment',
      `${provider} federation needs the environment variable ${name}${name.endsWith('TOKEN') ? hint : ''}`,
    )
  }
  return value
}

/** GitHub Actions: GET `<ACTIONS_ID_TOKEN_REQUEST_URL>&audience=<aud>`, answer `{"value": "<jwt>"}`. */
export async function githubActionsToken(
  http: HttpClient,
  options: { url: string; token: string; audience: string; signal?: AbortSignal | undefined },
): Promise<string> {
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new UsageError('invalid_environment', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL')
  }
  url.searchParams.set('audience', options.audience)
  const response = await ask(http, 'the GitHub Actions token service', {
    method: 'GET',
    url: url.toString(),
    headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
    carriesCredential: true,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return tokenField(response, 'value', 'the GitHub Actions token service')
}

/**
 * Azure Pipelines: POST `<SYSTEM_OIDCREQUESTURI>?api-version=7.1&serviceConnectionId=<id>` with the
 * job's access token, answer `{"oidcToken": "<jwt>"}`.
 */
export async function azurePipelinesToken(
  http: HttpClient,
  options: {
    uri: string
    token: string
    serviceConnectionId: string
    signal?: AbortSignal | undefined
  },
): Promise<string> {
  let url: URL
  try {
    url = new URL(options.uri)
  } catch {
    throw new UsageError('invalid_environment', 'SYSTEM_OIDCREQUESTURI is not a URL')
  }
  url.searchParams.set('api-version', azurePipelinesApiVersion)
  url.searchParams.set('serviceConnectionId', options.serviceConnectionId)
  const response = await ask(http, 'the Azure Pipelines OIDC endpoint', {
    method: 'POST',
    url: url.toString(),
    headers: {
      authorization: `Bearer ${options.token}`,
      'content-type': 'application/json',
      accept: 'application/json',
      // Without it an expired token is answered with a redirect to a sign-in page.
      'x-tfs-fedauthredirect': 'Suppress',
    },
    carriesCredential: true,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return tokenField(response, 'oidcToken', 'the Azure Pipelines OIDC endpoint')
}

async function ask(
  http: HttpClient,
  what: string,
  request: Parameters<HttpClient['request']>[0],
): Promise<HttpResponse> {
  let response: HttpResponse
  try {
    response = await http.request(request)
  } catch (error) {
    if (error instanceof RuntimeFailure) {
      // The hint stays: what gets past an untrusted certificate is the same for the CI runtime.
      throw new RuntimeFailure('federated_token_failed', `${what}: ${error.message}`, {
        cause: error,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
      })
    }
    throw error
  }
  if (response.status < 200 || response.status > 299) {
    throw new RuntimeFailure(
      'federated_token_failed',
      `${what} answered ${response.status}${describeBody(response.body)}`,
    )
  }
  return response
}

function tokenField(response: HttpResponse, field: string, what: string): string {
  let value: unknown
  try {
    value = (JSON.parse(response.body) as Record<string, unknown>)[field]
  } catch {
    value = undefined
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RuntimeFailure('federated_token_failed', `${what} sent no "${field}" in its answer`)
  }
  return value.trim()
}

/** A short, single-line reason from an error body; never the body itself (it could echo a token). */
function describeBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>
    const message = parsed['message'] ?? parsed['error_description'] ?? parsed['error']
    if (typeof message === 'string' && message.trim()) {
      const line = message.split(/\r?\n/, 1)[0]?.trim().slice(0, 200) ?? ''
      return line && !/eyJ[\w-]{5,}\./.test(line) ? `: ${line}` : ''
    }
  } catch {
    // not JSON: say nothing more
  }
  return ''
}
