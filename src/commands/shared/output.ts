import type { AuthenticationResult } from '../../core/application.js'
import { UsageError } from '../../core/errors.js'
import type { Io } from './io.js'

export const tokenFormats = ['raw', 'json', 'header'] as const
export type TokenFormat = (typeof tokenFormats)[number]

/** Writes a token in the chosen format: the only thing a token command puts on stdout. */
export function writeToken(
  io: Io,
  result: AuthenticationResult,
  format: TokenFormat,
  extra: Record<string, unknown> = {},
): void {
  switch (format) {
    case 'raw':
      io.stdout.write(`${result.access_token}\n`)
      return
    case 'header':
      io.stdout.write(`Authorization: ${result.token_type} ${result.access_token}\n`)
      return
    case 'json':
      io.stdout.write(`${JSON.stringify(tokenJson(result, extra), null, 2)}\n`)
  }
}

/** The `-o json` document. It never holds a refresh token or a secret. */
export function tokenJson(
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

export function parseTokenFormat(value: string): TokenFormat {
  if ((tokenFormats as readonly string[]).includes(value)) {
    return value as TokenFormat
  }
  throw new UsageError(
    'invalid_output',
    `unknown output format ${JSON.stringify(value)}; use raw, json or header`,
  )
}
