import type { HttpClient } from '../http/types.js'
import { imdsHost, imdsProbeMs, probeImds } from './imds.js'

/** `East Us 2` → `eastus2`, as MSAL normalises REGION_NAME. */
export function normalizeRegion(name: string): string {
  return name.replace(/\s+/g, '').toLowerCase()
}

/**
 * The region as the label that prefixes the token host, or undefined when it is none: anything
 * but letters, digits and inner hyphens (`evil.example#`, `x/..`) would move the host elsewhere,
 * and the client credential with it.
 */
export function regionLabel(name: string): string | undefined {
  const region = normalizeRegion(name)
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(region) ? region : undefined
}

/** The region this machine runs in: REGION_NAME, else the instance metadata service, else undefined. */
export async function detectRegion(
  http: HttpClient,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  // A detected value that is no label counts as none detected, as a failed detection does.
  if (env['REGION_NAME']?.trim()) {
    return regionLabel(env['REGION_NAME'])
  }
  const url = `${imdsHost(env)}/metadata/instance/compute/location?format=text&api-version=2021-01-01`
  const probe = await probeImds(http, url, { metadata: 'true' }, imdsProbeMs.region)
  const region =
    'response' in probe && probe.response.status === 200 ? probe.response.body.trim() : ''
  return region === '' ? undefined : regionLabel(region)
}
