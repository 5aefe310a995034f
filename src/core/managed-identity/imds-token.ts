import { imdsHost, imdsProbeMs, probeImds } from '../authority/imds.js'
import {
  type ManagedIdentityId,
  type ManagedIdentityToken,
  parse,
  redactedUrl,
  selector,
  send,
  type SourceContext,
  unavailable,
  withQuery,
} from './exchange.js'

const imdsPath = '/metadata/identity/oauth2/token'

/** IMDS answers worth another try (MSAL's ImdsRetryPolicy list): 404, 408, 410, 429 and 5xx. */
function isRetriableImdsStatus(status: number): boolean {
  return [404, 408, 410, 429].includes(status) || (status >= 500 && status <= 599)
}

/** A short back-off between IMDS attempts; three retries, as MSAL. */
export const defaultImdsRetryDelaysMs = [250, 500, 1000]

/**
 * A token from the VM's instance metadata service. IMDS is the source when the environment names
 * none, so it is probed first with a short timeout (a bare GET, which IMDS answers at once with a
 * 400, as Azure Identity probes it): a machine without managed identity fails in about a second
 * instead of waiting out the request timeout.
 */
export async function imdsToken(
  context: SourceContext,
  id: ManagedIdentityId | undefined,
  resource: string,
): Promise<ManagedIdentityToken> {
  const override = context.env['MSAL_MANAGED_IDENTITY_ENDPOINT']
  const url = withQuery(
    override || `${imdsHost(context.env)}${imdsPath}`,
    override ? 'MSAL_MANAGED_IDENTITY_ENDPOINT' : 'AZURE_POD_IDENTITY_AUTHORITY_HOST',
    {
      'api-version': '2018-02-01',
      resource,
      ...selector(id, { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' }),
    },
  )
  if (!context.imds.answered) {
    const probe = await probeImds(context.http, redactedUrl(url), {}, imdsProbeMs.managedIdentity)
    if ('error' in probe) {
      throw unavailable('Imds', url, probe.error)
    }
    context.imds.answered = true
  }
  // This loop is the one retry policy: the HTTP client's own retry would multiply its attempts.
  const request = { method: 'GET', url, headers: { metadata: 'true' }, retry: false } as const
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
