import { PublicClientApplication } from '../../core/clients/public-client.js'
import { applicationOptions } from './app.js'
import { type CommonFlags, resolveCommon } from './settings.js'
import type { Io } from './io.js'

/** A public client for the person's commands (login, token, accounts, logout). */
export function publicApp(flags: CommonFlags, io: Io): PublicClientApplication {
  return new PublicClientApplication(applicationOptions(resolveCommon(flags, io), io))
}
