import type { AuthenticationResult } from '../../core/clients/application.js'
import type { Io } from './io.js'
import { jsonText, printable } from './printable.js'

export const tokenFormats = ['raw', 'json', 'header', 'env', 'kubectl'] as const
export type TokenFormat = (typeof tokenFormats)[number]

/** Writes a token in the chosen format: the only thing a token command puts on stdout. */
export function writeToken(
  io: Pick<Io, 'stdout'>,
  result: AuthenticationResult,
  format: TokenFormat,
  extra: Record<string, unknown> = {},
): void {
  switch (format) {
    case 'raw':
      io.stdout.write(`${result.access_token}\n`)
      return
    case 'header':
      io.stdout.write(`Authorization: ${scheme(result.token_type)} ${result.access_token}\n`)
      return
    case 'json':
      io.stdout.write(jsonText(tokenJson(result, extra)))
      return
    case 'env':
      io.stdout.write(envLines(result))
      return
    case 'kubectl':
      io.stdout.write(jsonText(execCredential(result)))
  }
}

/**
 * `export NAME='value'` lines for `eval "$(msal-ts token ... -o env)"`, quoted for any POSIX shell.
 * A scope from a cache file written elsewhere is text from outside: what would drive the terminal
 * when the lines are shown rather than evaluated is written as an escape.
 */
function envLines(result: AuthenticationResult): string {
  const quote = (value: string) => `'${printable(value).replaceAll("'", `'\\''`)}'`
  return Object.entries({
    MSAL_TS_ACCESS_TOKEN: result.access_token,
    MSAL_TS_TOKEN_TYPE: result.token_type,
    MSAL_TS_EXPIRES_ON: String(result.expires_on),
    MSAL_TS_SCOPE: result.scope.join(' '),
  })
    .map(([name, value]) => `export ${name}=${quote(value)}\n`)
    .join('')
}

/**
 * A client.authentication.k8s.io/v1 ExecCredential, so kubectl can run msal-ts as its credential
 * plugin; the expiry (RFC 3339, UTC) tells it when to run msal-ts again.
 */
function execCredential(result: AuthenticationResult): Record<string, unknown> {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: {
      token: result.access_token,
      expirationTimestamp: new Date(result.expires_on * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  }
}

/** HTTP spells the Proof-of-Possession scheme `PoP` (schemes are case-insensitive; this is the usual form). */
function scheme(tokenType: string): string {
  return tokenType.toLowerCase() === 'pop' ? 'PoP' : tokenType
}

/** The `-o json` document. It never holds a refresh token or a secret. */
function tokenJson(
  result: AuthenticationResult,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    token_type: result.token_type,
    access_token: result.access_token,
    expires_in: result.expires_in,
    expires_on: result.expires_on,
    scope: result.scope,
    token_source: result.token_source,
    ...(result.refresh_on !== undefined ? { refresh_on: result.refresh_on } : {}),
    ...(result.ext_expires_on !== undefined ? { ext_expires_on: result.ext_expires_on } : {}),
    ...(result.id_token_claims ? { id_token_claims: result.id_token_claims } : {}),
    ...extra,
  }
}
