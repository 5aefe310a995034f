/**
 * The `client-token` command's own options, declared once: the command lists them, and the
 * managed identity path (shared/managed-identity.ts), which serves `client-token
 * --managed-identity`, reads the flags derived from them.
 */
import {
  type FlagsOf,
  type OptionDeclaration,
  tokenOutputDeclaration,
} from './shared/common-option-table.js'

export const clientTokenOwnOptions = [
  {
    flags: '-s, --scope <scope>',
    description: 'scope, e.g. https://graph.microsoft.com/.default (repeatable)',
    repeatable: true,
  },
  { flags: '--resource <uri>', description: 'resource URI: the scope <uri>/.default' },
  {
    flags: '--client-claims <json>',
    description: 'extra claims for the certificate assertion (JSON object)',
  },
  { flags: '--force-refresh', description: 'ignore the cached token' },
  {
    flags: '--on-behalf-of <file>',
    description: 'on-behalf-of: a file holding the incoming user token, or - for stdin',
  },
  tokenOutputDeclaration,
] as const satisfies readonly OptionDeclaration[]

export type ClientTokenOwnFlags = FlagsOf<typeof clientTokenOwnOptions>
