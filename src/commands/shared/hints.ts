import type { ErrorHint, MsalTsError } from '../../core/kernel/errors.js'
import { type ProfileLayer, profileLayer } from './profile.js'
import { type CaSetting, type CommonFlags, caSetting } from './settings.js'

/**
 * The CLI's advice for each engine hint: the engine names no flag, so the flag that gets past the
 * error is added here, after the engine's message. Each text starts with its own separator.
 */
const cliHints: Record<Exclude<ErrorHint, 'ca_file_source'>, string> = {
  trust_certificate: '; pass --ca-file with its CA, or fix the proxy',
  validate_authority: '; pass --no-validate-authority to trust it',
  redirect_port: '; pick another --redirect-port',
  interactive_sign_in: ': use msal-ts login (browser) or --device-code',
  reserved_scope: ' given with --scope (use --exclude-scope to drop profile or offline_access)',
  start_auth_code_flow: '; start the flow with msal-ts auth-url --flow-file',
  certificate_password:
    ': pass --certificate-password-stdin or set AZURE_CLIENT_CERTIFICATE_PASSWORD',
  certificate_thumbprint: ' (--thumbprint)',
  service_connection_id: '; pass --service-connection-id or set it',
}

/**
 * The error's message as the CLI prints it: with the flag to use when the engine gave a hint, and
 * for an untrusted certificate the CA file in effect, from the options of the command that ran.
 */
export function withCliHint(
  error: MsalTsError,
  { flags, env }: { flags: CommonFlags | undefined; env: NodeJS.ProcessEnv },
): string {
  if (error.hint === undefined) {
    return error.message
  }
  if (error.hint === 'ca_file_source') {
    const source = flags ? caInEffect(flags, env).caSource : undefined
    return source === undefined || source === '--ca-file'
      ? error.message
      : `${error.message} (from ${source})`
  }
  const note = error.hint === 'trust_certificate' && flags ? ` ${caNote(flags, env)}` : ''
  return `${error.message}${cliHints[error.hint]}${note}`
}

/** A certificate can be untrusted because the wrong CA file won: say which one is in effect. */
function caNote(flags: CommonFlags, env: NodeJS.ProcessEnv): string {
  const { caFile, caSource } = caInEffect(flags, env)
  return caFile === undefined
    ? "(no CA file set: Node's built-in CAs only)"
    : `(CA file from ${caSource}: ${caFile})`
}

function caInEffect(flags: CommonFlags, env: NodeJS.ProcessEnv): CaSetting {
  const profileName = flags.profile ?? env['MSAL_TS_PROFILE']
  let layer: ProfileLayer = { profile: {}, profileName, named: {} }
  try {
    layer = profileLayer(profileName, env)
  } catch {
    // The command got past its profile before the request failed; a config file changed since is
    // no reason to hide the error itself.
  }
  return caSetting(flags, env, layer)
}
