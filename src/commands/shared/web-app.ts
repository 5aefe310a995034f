import type { ClientApplication } from '../../core/clients/application.js'
import { ConfidentialClientApplication } from '../../core/clients/confidential-client.js'
import { PublicClientApplication } from '../../core/clients/public-client.js'
import { applicationOptions, regionOption } from './app.js'
import { type CommonFlags, resolveCommon } from './settings.js'
import type { CredentialFlags } from './app-identity-options.js'
import { resolveOptionalCredential } from './credential.js'
import { federationHttpClient } from './federated-token.js'
import type { Io } from './io.js'

/**
 * Runs `use` with a confidential client when a credential is given (a web app), a public one
 * otherwise. A CI runtime named by --federated-token is asked with the command's own timeout,
 * proxy, CAs and logging, and that connection is closed with the app.
 */
export async function withWebApp<T>(
  flags: CommonFlags & CredentialFlags,
  io: Io,
  use: (app: ClientApplication) => Promise<T>,
): Promise<T> {
  const settings = resolveCommon(flags, io)
  const federationHttp = federationHttpClient(flags, settings, io)
  try {
    const credential = await resolveOptionalCredential(
      flags,
      io,
      federationHttp ? { httpClient: federationHttp } : {},
    )
    const options = applicationOptions(settings, io)
    const app =
      credential === undefined
        ? new PublicClientApplication(options)
        : new ConfidentialClientApplication({
            ...options,
            ...regionOption(settings),
            clientCredential: credential,
          })
    try {
      return await use(app)
    } finally {
      await app.close()
    }
  } finally {
    await federationHttp?.close()
  }
}
