import { UsageError } from '../../core/kernel/errors.js'
import { federatedTokenCredentialIn } from '../../core/credentials/federated-token.js'
import { createHttpClient } from '../../core/http/client.js'
import type { HttpClient } from '../../core/http/types.js'
import type { FederatedFlags } from './app-identity-options.js'
import type { Io } from './io.js'
import { stderrLogger } from './logging.js'
import type { CommonSettings } from './settings.js'

export type FederatedSpec =
  { kind: 'file'; path: string } | { kind: 'runtime'; provider: 'github' | 'azure-pipelines' }

/** What `--federated-token` names; undefined when it is absent. */
export function federatedSpec(flags: FederatedFlags): FederatedSpec | undefined {
  const value = flags.federatedToken?.trim()
  if (value === undefined) {
    if (flags.federatedAudience !== undefined || flags.serviceConnectionId !== undefined) {
      throw new UsageError(
        'missing_option',
        '--federated-audience and --service-connection-id go with --federated-token',
      )
    }
    return undefined
  }
  const provider = sourceNamed(value)
  refuseForeignCompanions(flags, provider)
  if (provider === 'file') {
    const path = value.slice('file:'.length)
    if (!path) {
      throw new UsageError('invalid_federated_token', '--federated-token file: needs a path')
    }
    return { kind: 'file', path }
  }
  return { kind: 'runtime', provider }
}

function sourceNamed(value: string): 'file' | 'github' | 'azure-pipelines' {
  const lower = value.toLowerCase()
  if (lower.startsWith('file:')) {
    return 'file'
  }
  if (lower !== 'github' && lower !== 'azure-pipelines') {
    throw new UsageError(
      'invalid_federated_token',
      `unknown --federated-token ${JSON.stringify(value)}: use github, azure-pipelines or file:<path>`,
    )
  }
  return lower
}

/** Each companion acts on one runtime only; a file is read as it is, with neither. */
function refuseForeignCompanions(
  flags: FederatedFlags,
  provider: ReturnType<typeof sourceNamed>,
): void {
  if (provider !== 'azure-pipelines' && flags.serviceConnectionId !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--service-connection-id goes with --federated-token azure-pipelines',
    )
  }
  if (provider !== 'github' && flags.federatedAudience !== undefined) {
    throw new UsageError(
      'conflicting_options',
      '--federated-audience goes with --federated-token github',
    )
  }
}

/**
 * The assertion function for a CI runtime: the environment is checked now (exit 2 naming a missing
 * variable), the token is fetched only when a token request is made.
 */
export function runtimeAssertion(
  provider: 'github' | 'azure-pipelines',
  flags: FederatedFlags,
  io: Io,
  httpClient: HttpClient | undefined,
): () => Promise<string> {
  const credential = federatedTokenCredentialIn(io.env, provider, {
    ...(httpClient ? { httpClient } : {}),
    ...(flags.federatedAudience !== undefined ? { audience: flags.federatedAudience } : {}),
    ...(flags.serviceConnectionId !== undefined
      ? { serviceConnectionId: flags.serviceConnectionId }
      : {}),
  })
  const assertion = credential.clientAssertion
  return async () => (typeof assertion === 'function' ? await assertion() : assertion)
}

/**
 * The HTTP client the CI runtime is asked through, with the command's timeout, proxy, CAs and
 * logging; undefined when no runtime is named. The caller closes it.
 */
export function federationHttpClient(
  flags: FederatedFlags,
  settings: CommonSettings,
  io: Io,
): (HttpClient & { close(): Promise<void> }) | undefined {
  if (federatedSpec(flags)?.kind !== 'runtime') {
    return undefined
  }
  return createHttpClient(
    {
      timeoutMs: settings.timeoutSeconds * 1000,
      ...(settings.proxy ? { proxy: settings.proxy } : {}),
      ...(settings.caFile ? { caFile: settings.caFile } : {}),
      ...(settings.insecure ? { insecure: true } : {}),
    },
    stderrLogger(io, settings),
  )
}
