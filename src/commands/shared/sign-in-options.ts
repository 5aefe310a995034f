import type { OptionDeclaration } from './common-option-table.js'

/**
 * Options of the sign-in requests that several commands list word for word, declared once so
 * that their help cannot drift apart.
 */
export const signInOptions = {
  account: {
    flags: '--account <account>',
    description: 'username or home account id [env: MSAL_TS_ACCOUNT]',
  },
  scope: { flags: '-s, --scope <scope>', description: 'scope (repeatable)', repeatable: true },
  prompt: {
    flags: '--prompt <prompt>',
    description: 'login, none, consent, select_account or create',
  },
  loginHint: { flags: '--login-hint <upn>', description: 'pre-fill the username' },
  domainHint: { flags: '--domain-hint <domain>', description: 'skip home realm discovery' },
  maxAge: { flags: '--max-age <seconds>', description: 'require a sign-in at most this old' },
  claimsChallenge: {
    flags: '--claims-challenge <json>',
    description: 'claims challenge from a resource',
  },
} as const satisfies Record<string, OptionDeclaration>
