/**
 * Hosts that name the same cloud in a token cache. MSAL Python writes the configured host,
 * msal-node the instance metadata's preferred cache host (login.windows.net for the public cloud),
 * and msal-node keeps a port where MSAL Python drops it; a reader must accept them all.
 */
const aliasGroups: readonly (readonly string[])[] = [
  ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'],
  ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
  ['login.microsoftonline.de'],
  ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  ['login-us.microsoftonline.com'],
  ['login.windows-ppe.net', 'sts.windows-ppe.net', 'login.microsoft-ppe.com'],
]

/** The host without a port, lower-cased: `127.0.0.1:8443` and `127.0.0.1` are one environment. */
function hostOf(environment: string): string {
  const host = environment.toLowerCase()
  return host.startsWith('[') ? host.replace(/(\])(:\d+)?$/, '$1') : host.replace(/:\d+$/, '')
}

/** Whether a cache entry's environment belongs to the same cloud as the one asked for. */
export function sameEnvironment(entry: unknown, wanted: string): boolean {
  if (typeof entry !== 'string') {
    return false
  }
  const [a, b] = [hostOf(entry), hostOf(wanted)]
  return a === b || aliasGroups.some((group) => group.includes(a) && group.includes(b))
}
