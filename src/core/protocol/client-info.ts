/** Decoded ID token claims. */
export type IdTokenClaims = Record<string, unknown>

/**
 * The account's cache id: `uid.utid` from client_info, else the ID token's `sub` (ADFS, B2C without
 * utid, plain OpenID providers), else null: an app-only token has no account.
 */
export function homeAccountIdOf(
  clientInfo: string | undefined,
  claims: IdTokenClaims | undefined,
): string | null {
  const info = decodeClientInfo(clientInfo)
  if (typeof info?.['uid'] === 'string' && typeof info['utid'] === 'string') {
    return `${info['uid']}.${info['utid']}`
  }
  const sub = claims?.['sub']
  return typeof sub === 'string' && sub !== '' ? sub : null
}

function decodeClientInfo(clientInfo: string | undefined): Record<string, unknown> | undefined {
  if (!clientInfo) {
    return undefined
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientInfo, 'base64url').toString('utf8'))
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
