import type { ClientApplication } from '../../core/application.js'
import { ConfidentialClientApplication } from '../../core/confidential-client.js'
import { PublicClientApplication } from '../../core/public-client.js'
import { applicationOptions } from './app.js'
import { type CommonFlags, resolveCommon } from './settings.js'
import { type CredentialFlags, resolveOptionalCredential } from './credential.js'
import type { Io } from './io.js'

/** A confidential client when a credential is given (a web app), a public one otherwise. */
export async function webApp(
  flags: CommonFlags & CredentialFlags,
  io: Io,
): Promise<ClientApplication> {
  const options = applicationOptions(resolveCommon(flags, io), io)
  const credential = await resolveOptionalCredential(flags, io)
  return credential === undefined
    ? new PublicClientApplication(options)
    : new ConfidentialClientApplication({ ...options, clientCredential: credential })
}
