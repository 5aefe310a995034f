import type { ClientApplication } from '../../core/clients/application.js'
import { UsageError } from '../../core/kernel/errors.js'
import { popAuthScheme, type PopAuthScheme } from '../../core/protocol/pop.js'
import { type FlagsOf, type OptionDeclaration } from './common-option-table.js'

/** The options that ask for a Proof-of-Possession token instead of a bearer one. */
export const popOptions = [
  {
    flags: '--pop-method <method>',
    description: 'Proof-of-Possession: HTTP method of the request to sign',
  },
  { flags: '--pop-url <url>', description: 'Proof-of-Possession: URL of the request to sign' },
  {
    flags: '--pop-nonce <nonce>',
    description: "Proof-of-Possession: the resource's nonce, if it sent one",
  },
  { flags: '--pop-rotate-key', description: 'Proof-of-Possession: replace the key pair first' },
] as const satisfies readonly OptionDeclaration[]

export type PopFlags = FlagsOf<typeof popOptions>

/**
 * The auth scheme the --pop-* options ask for, checked before anything is read or sent: a
 * provider that cannot issue PoP tokens is a usage error (exit 2), never a bearer token instead.
 */
export function popSchemeFrom(flags: PopFlags, app: ClientApplication): PopAuthScheme | undefined {
  const { popMethod, popUrl } = flags
  if (popMethod === undefined && popUrl === undefined) {
    const stray =
      flags.popNonce !== undefined ? '--pop-nonce' : flags.popRotateKey ? '--pop-rotate-key' : ''
    if (stray) {
      throw new UsageError('missing_option', `${stray} needs --pop-method and --pop-url`)
    }
    return undefined
  }
  if (popMethod === undefined || popUrl === undefined) {
    throw new UsageError('missing_option', '--pop-method and --pop-url go together')
  }
  if (!app.isPopSupported()) {
    throw new UsageError(
      'pop_unsupported',
      `${app.authority.url} is not Microsoft Entra ID and cannot issue Proof-of-Possession tokens; drop the --pop-* options`,
    )
  }
  return popAuthScheme(popMethod, popUrl, flags.popNonce)
}
