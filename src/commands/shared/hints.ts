import type { ErrorHint, MsalTsError } from '../../core/kernel/errors.js'

/**
 * The CLI's advice for each engine hint: the engine names no flag, so the flag that gets past the
 * error is added here, after the engine's message. Each text starts with its own separator.
 */
const cliHints: Record<ErrorHint, string> = {
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

/** The error's message as the CLI prints it: with the flag to use when the engine gave a hint. */
export function withCliHint(error: MsalTsError): string {
  return error.hint === undefined ? error.message : `${error.message}${cliHints[error.hint]}`
}
