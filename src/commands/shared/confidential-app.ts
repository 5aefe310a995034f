import { ConfidentialClientApplication } from '../../core/clients/confidential-client.js'
import type { ClientCredential } from '../../core/credentials/client-auth.js'
import { applicationOptions, regionOption } from './app.js'
import type { Io } from './io.js'
import type { CommonSettings } from './settings.js'

/** What a confidential client adds to the common settings: how the app proves itself. */
export interface ConfidentialAppOptions {
  clientCredential: ClientCredential
  clientClaims?: Record<string, unknown>
}

/** A confidential client for app-only and on-behalf-of tokens (client-token). */
export function confidentialApp(
  settings: CommonSettings,
  io: Io,
  options: ConfidentialAppOptions,
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    ...applicationOptions(settings, io),
    ...regionOption(settings),
    ...options,
  })
}
