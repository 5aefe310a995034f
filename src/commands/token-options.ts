/**
 * The `token` command's own options, declared once, without commander: the command builds them
 * from here, and the cached-token fast path (token-from-cache.ts) parses the ones a cache hit can
 * honour from the same declarations.
 */
import {
  type FlagsOf,
  type OptionDeclaration,
  tokenOutputDeclaration,
} from './shared/common-option-table.js'
import { signInOptions } from './shared/sign-in-options.js'

/** What a plain cache hit honours. */
export const tokenCacheHitOptions = [
  signInOptions.scope,
  { flags: '--resource <uri>', description: 'resource URI: the scope <uri>/.default' },
  signInOptions.account,
  {
    flags: '--min-validity <seconds>',
    description: 'the token must stay valid this long (default: 300)',
  },
  tokenOutputDeclaration,
] as const satisfies readonly OptionDeclaration[]

/** What only the full command does: both go to the identity provider. */
export const tokenRefreshOptions = [
  { flags: '--force-refresh', description: 'ignore the cached access token' },
  {
    flags: '--claims-challenge <json>',
    description: 'claims challenge from a resource (skips the cache)',
  },
] as const satisfies readonly OptionDeclaration[]

export type TokenOwnFlags = FlagsOf<typeof tokenCacheHitOptions> &
  FlagsOf<typeof tokenRefreshOptions>
