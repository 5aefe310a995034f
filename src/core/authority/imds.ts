import type { HttpClient, HttpResponse } from '../http/types.js'

/**
 * The instance metadata service (IMDS) of an Azure VM. AZURE_POD_IDENTITY_AUTHORITY_HOST moves it,
 * as MSAL and Azure Identity honour it (and tests point it at loopback).
 */
const defaultImdsHost = 'http://169.254.169.254'

/**
 * How long a probe waits for IMDS to answer at all. IMDS answers in milliseconds on a VM, and a
 * machine without one must not hang. The region probe waits 2 s as msal-common's IMDS_TIMEOUT; the
 * managed identity probe 1 s, as Azure Identity's.
 */
export const imdsProbeMs = { region: 2000, managedIdentity: 1000 } as const

/** The IMDS origin for this environment, without a trailing slash. */
export function imdsHost(env: Record<string, string | undefined>): string {
  return (env['AZURE_POD_IDENTITY_AUTHORITY_HOST']?.trim() || defaultImdsHost).replace(/\/+$/, '')
}

/** One GET with a probe's short timeout: any answer means IMDS is there; a failure says why not. */
export async function probeImds(
  http: HttpClient,
  url: string,
  headers: Record<string, string>,
  probeMs: number,
): Promise<{ response: HttpResponse } | { error: unknown }> {
  try {
    return { response: await http.request({ method: 'GET', url, headers, probeMs }) }
  } catch (error) {
    return { error }
  }
}
