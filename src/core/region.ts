import type { HttpClient } from './http-types.js'

/** The instance metadata service; AZURE_POD_IDENTITY_AUTHORITY_HOST moves it (and tests point it at loopback). */
export const defaultImdsHost = 'http://169.254.169.254'
const imdsProbeMs = 2000

/** `East Us 2` → `eastus2`, as MSAL normalises REGION_NAME. */
export function normalizeRegion(name: string): string {
  return name.replace(/\s+/g, '').toLowerCase()
}

/** The region this machine runs in: REGION_NAME, else the instance metadata service, else undefined. */
export async function detectRegion(
  http: HttpClient,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (env['REGION_NAME']?.trim()) {
    return normalizeRegion(env['REGION_NAME'])
  }
  const host = (env['AZURE_POD_IDENTITY_AUTHORITY_HOST']?.trim() || defaultImdsHost).replace(
    /\/+$/,
    '',
  )
  const url = `${host}/metadata/instance/compute/location?format=text&api-version=2021-01-01`
  try {
    const response = await http.request({
      method: 'GET',
      url,
      headers: { metadata: 'true' },
      signal: AbortSignal.timeout(imdsProbeMs),
    })
    const region = response.status === 200 ? response.body.trim() : ''
    return region === '' ? undefined : normalizeRegion(region)
  } catch {
    return undefined
  }
}
