import type { IdTokenClaims } from './client-info.js'

/** What every acquisition returns, in MSAL's (snake_case) result shape. */
export interface AuthenticationResult {
  access_token: string
  token_type: string
  expires_in: number
  expires_on: number
  ext_expires_on?: number
  refresh_on?: number
  scope: string[]
  token_source: 'cache' | 'identity_provider'
  /** User flows: the checked claims of the ID token. */
  id_token_claims?: IdTokenClaims
  /** User flows: the signed-in account, as getAccounts returns it. */
  account?: Account
}

/** An account as MSAL's get_accounts returns it. */
export interface Account {
  home_account_id: string
  environment: string
  username: string
  /** How the account signed in (`password`, `authorization_code`, ...); null when unknown, as MSAL has it. */
  account_source?: string | null
  authority_type: string
  local_account_id: string
  realm: string
}
