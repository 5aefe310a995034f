import { PublicClientApplication } from '../../core/clients/public-client.js'
import { applicationOptions } from './app.js'
import { type CommonFlags, refuseIdleRedisOptions, resolveCommon } from './settings.js'
import type { Io } from './io.js'

/**
 * A public client for the person's commands (login, token, accounts, logout). `cacheOnly` marks
 * the commands that send no HTTP request, whose TLS and timeout options act on Redis alone.
 */
export function publicApp(
  flags: CommonFlags,
  io: Io,
  { cacheOnly = false }: { cacheOnly?: boolean } = {},
): PublicClientApplication {
  const settings = resolveCommon(flags, io)
  if (cacheOnly) {
    refuseIdleRedisOptions(flags, settings)
  }
  return new PublicClientApplication(applicationOptions(settings, io, { cacheOnly }))
}
