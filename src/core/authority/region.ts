import type { HttpClient } from '../http/types.js'
import { imdsHost, imdsProbeMs, probeImds } from './imds.js'

/** `East Us 2` → `eastus2`, as MSAL normalises REGION_NAME. */
export function normalizeRegion(name: string): string {
  return name.replace(/\s+/g, '').toLowerCase()
}

/** The region this machine runs in: REGION_NAME, else the instance metadata service, else undefined. */
export async function detectRegion(
  http: HttpClient,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (env['REGION_NAME']?.trim()) {
    return normalizeRegion(env['REGION_NAME'])
  }
  const url = `${imdsHost(env)}/metadata/instance/compute/location?format=text&api-version=2021-01-01`
  const probe = await probeImds(http, url, { metadata: 'true' }, imdsProbeMs.region)
  const region =
    'response' in probe && probe.response.status === 200 ? probe.response.body.trim() : ''
  return region === '' ? undefined : normalizeRegion(region)
}
