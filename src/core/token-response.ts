import type { AuthenticationResult } from './result.js'
import type { TokenResponse } from './token-cache/token-cache.js'

/** The caller's result for a token endpoint answer; `requested` stands in when it has no `scope`. */
export function fromResponse(
  response: TokenResponse,
  requested: readonly string[],
  now: number,
): AuthenticationResult {
  const expiresIn = Number(response.expires_in ?? 600)
  const extIn = response.ext_expires_in === undefined ? undefined : Number(response.ext_expires_in)
  const refreshIn = response.refresh_in === undefined ? undefined : Number(response.refresh_in)
  return {
    access_token: response.access_token,
    token_type: response.token_type ?? 'Bearer',
    expires_in: expiresIn,
    expires_on: now + expiresIn,
    ...(extIn !== undefined ? { ext_expires_on: now + extIn } : {}),
    ...(refreshIn !== undefined ? { refresh_on: now + refreshIn } : {}),
    scope: response.scope ? response.scope.split(/\s+/).filter(Boolean) : [...requested],
    token_source: 'identity_provider',
  }
}

/** `Oid:<uid>@<utid>`: routes a redemption to the account's home tenant. */
export function anchorOf(clientInfo: string): string | undefined {
  try {
    const info = JSON.parse(Buffer.from(clientInfo, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >
    return typeof info['uid'] === 'string' && typeof info['utid'] === 'string'
      ? `Oid:${info['uid']}@${info['utid']}`
      : undefined
  } catch {
    return undefined
  }
}
