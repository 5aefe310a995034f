import type { SharedClientOptions } from '../session/client-options.js'
import type { ManagedIdentityId } from '../managed-identity/sources.js'

/** What ManagedIdentityClient takes: apart from it, so the option tables can name its options. */
export interface ManagedIdentityClientOptions extends SharedClientOptions {
  /** A user-assigned identity by one of its ids; the system-assigned identity when absent. */
  managedIdentity?: ManagedIdentityId
  /**
   * Where the source (IDENTITY_ENDPOINT, MSI_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST, ...) is read
   * from; default the process environment, as MSAL reads it.
   */
  env?: Record<string, string | undefined>
  /** The waits between IMDS attempts on 404/408/410/429/5xx; default 250, 500, 1000 ms. */
  imdsRetryDelaysMs?: readonly number[]
}

export interface ManagedIdentityTokenOptions {
  /** Skip the cached token. */
  forceRefresh?: boolean
  /** A claims challenge from a resource: skips the cached token (the sources take no claims). */
  claimsChallenge?: string
  signal?: AbortSignal
}
