import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import type { Command } from 'commander'
import { fullProgram } from '../../src/registry.js'
import { processIo } from '../../src/commands/shared/io.js'

const root = resolve(import.meta.dirname, '../..')

/** `file › test title`: a test that passes the option and asserts its effect or its refusal. */
type Proof = string

/**
 * Options added by one shared helper (common, credential, federated, PoP options) act through one
 * code path (resolveCommon, applicationOptions, resolveCredential) whatever the command: one test
 * of that path proves them for every command that lists them.
 */
const shared: Record<string, Proof> = {
  '--client-id': 'test/cli/token.test.ts › a cached token is printed with no request at all',
  '--authority': 'test/cli/token.test.ts › a cached token is printed with no request at all',
  '--oidc-authority':
    'test/cli/oidc-provider.test.ts › client_secret_post: the secret in the form, a JWT for the API',
  '--no-validate-authority':
    'test/cli/client-token.test.ts › an Entra-shaped host instance discovery does not know is refused; --no-validate-authority trusts it',
  '--capability':
    'test/cli/web-flows.test.ts › a CP1 capability is in the claims of every token request and of the authorize URL',
  '--exclude-scope':
    'test/cli/web-flows.test.ts › --exclude-scope offline_access leaves it off the wire, and no refresh token comes back',
  '--cache-file':
    'test/cli/accounts-logout.test.ts › in a shared cache file, logout removes the account',
  '--cache-dir':
    'test/cli/redis-cache.test.ts › two processes with separate cache dirs share one token through Redis',
  '--cache-url':
    'test/cli/redis-cache.test.ts › two processes with separate cache dirs share one token through Redis',
  '--proxy':
    'test/cli/client-token.test.ts › a proxy from --proxy or HTTPS_PROXY carries the requests, NO_PROXY bypasses it',
  '--ca-file':
    'test/cli/client-token.test.ts › --insecure works without the CA and warns on every run',
  '--insecure':
    'test/cli/client-token.test.ts › --insecure works without the CA and warns on every run',
  '--timeout': 'test/cli/client-token.test.ts › --timeout bounds every request',
  '--profile': 'test/cli/profiles.test.ts › a named profile is laid over the default one',
  '--no-color': 'test/cli/colour.test.ts › NO_COLOR and --no-color win over FORCE_COLOR',
  '--client-secret':
    'test/cli/client-token.test.ts › the secret from stdin, and from the option with a warning about argv',
  '--client-secret-stdin':
    'test/cli/client-token.test.ts › the secret from stdin, and from the option with a warning about argv',
  '--certificate':
    'test/cli/oidc-provider.test.ts › private_key_jwt with --certificate: an RS256 assertion for the token endpoint',
  '--client-assertion-file':
    'test/cli/federated-token.test.ts › file:<path> reads the assertion file like --client-assertion-file',
  '--federated-token':
    'test/cli/federated-token.test.ts › github: the Actions token is the client assertion',
  '--federated-audience':
    'test/cli/federated-token.test.ts › github: --federated-audience, and each token request fetches a fresh federated token',
  '--pop-method':
    'test/cli/pop.test.ts › -o header prints a PoP SHR signed by the key the STS bound the token to',
  '--pop-url':
    'test/cli/pop.test.ts › -o header prints a PoP SHR signed by the key the STS bound the token to',
  '--tenant':
    'test/cli/option-effects.test.ts › --cloud and --tenant make the authority the token request goes to',
  '--cloud':
    'test/cli/option-effects.test.ts › --cloud and --tenant make the authority the token request goes to',
  '--no-instance-discovery':
    'test/cli/option-effects.test.ts › --no-instance-discovery asks no instance discovery even with an endpoint configured',
  '--no-cache':
    'test/cli/option-effects.test.ts › --no-cache writes no cache file, so every run asks the provider',
  '--app-name':
    'test/cli/option-effects.test.ts › --app-name and --app-version go out as x-app-name and x-app-ver',
  '--app-version':
    'test/cli/option-effects.test.ts › --app-name and --app-version go out as x-app-name and x-app-ver',
  '--verbose':
    'test/cli/option-effects.test.ts › --verbose logs every request at debug level; without it nothing is logged',
  '--log-level':
    'test/cli/client-token.test.ts › debug logging shows the requests and never the secret or the token',
  '--pii':
    'test/cli/option-effects.test.ts › --pii shows the user name the debug log otherwise masks',
  '--client-secret-file':
    'test/cli/option-effects.test.ts › --client-secret-file: the secret in the file is the one sent',
  '--private-key':
    'test/cli/option-effects.test.ts › --private-key signs for a certificate-only file; --thumbprint is the x5t sent',
  '--thumbprint':
    'test/cli/option-effects.test.ts › --private-key signs for a certificate-only file; --thumbprint is the x5t sent',
  '--certificate-password-stdin':
    'test/cli/client-token.test.ts › an encrypted key with its password from stdin or the environment; a wrong password is exit 2',
  '--send-x5c':
    'test/cli/client-token.test.ts › a certificate: RS256 assertion with x5t computed from the certificate, no x5c unless asked',
  '--client-assertion':
    'test/cli/option-effects.test.ts › --client-assertion: the assertion given is the one sent',
  '--service-connection-id':
    'test/cli/federated-token.test.ts › azure-pipelines: POST with the job token and the service connection from the environment',
  '--pop-nonce':
    'test/cli/pop.test.ts › -o header prints a PoP SHR signed by the key the STS bound the token to',
  '--pop-rotate-key':
    'test/cli/pop.test.ts › the key file is 0600 in a 0700 dir, reused across runs, and replaced on --pop-rotate-key',
}

/** Options of one command: `command --option` (subcommands as `config set --option`). */
const perCommand: Record<string, Proof> = {
  'login --scope':
    'test/cli/login-password.test.ts › the password from stdin: signed in, the grant as Entra expects it, tokens cached',
  'login --username':
    'test/cli/login-password.test.ts › the password from stdin: signed in, the grant as Entra expects it, tokens cached',
  'login --password-stdin':
    'test/cli/login-password.test.ts › the password from stdin: signed in, the grant as Entra expects it, tokens cached',
  'login --device-code':
    'test/cli/readme-recipes.test.ts › over SSH: login --device-code, completed on another device, then token from the cache',
  'login --redirect-port':
    'test/cli/login-loopback.test.ts › --redirect-port fixes the port; a port in use is exit 2 with one line',
  'login --max-age':
    'test/cli/option-effects.test.ts › login --username --max-age refuses an old sign-in and caches nothing',
  'login --response-mode':
    'test/cli/login-browser.test.ts › --response-mode form_post: the provider posts the code to the listener',
  'login --wait':
    'test/cli/login-loopback.test.ts › --wait 2 with no answer ends with exit 1 and a clear message, no stack trace',
  'login --output': 'test/cli/web-flows.test.ts › on-behalf-of twice: one request, then the cache',
  'token --scope': 'test/cli/token.test.ts › a cached token is printed with no request at all',
  'token --account':
    'test/cli/token.test.ts › several accounts: exit 2 listing them without a terminal; --account and MSAL_TS_ACCOUNT choose',
  'token --force-refresh':
    'test/cli/token.test.ts › --force-refresh asks the identity provider even with a valid token',
  'token --min-validity':
    'test/cli/token.test.ts › --min-validity: a token that does not last long enough is refreshed',
  'token --output':
    'test/cli/output-formats.test.ts › a cached token and the token command take the new formats',
  'accounts --username':
    'test/cli/accounts-logout.test.ts › accounts --username matches in any case',
  'logout --account':
    'test/cli/accounts-logout.test.ts › logout --account --yes removes that account',
  'logout --all':
    'test/cli/accounts-logout.test.ts › logout --all without a terminal asks nothing and empties the accounts',
  'logout --app-tokens': 'test/cli/pop.test.ts › logout --app-tokens leaves the user',
  'logout --yes': 'test/cli/accounts-logout.test.ts › logout --account --yes removes that account',
  'auth-url --scope':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --flow-file':
    'test/cli/web-flows.test.ts › a flow file (0600) is redeemed with the redirect URL, once',
  'redeem --code':
    'test/cli/web-flows.test.ts › redeem --code: a bare code with --scope and --redirect-uri, once',
  'redeem --scope':
    'test/cli/web-flows.test.ts › redeem --code: a bare code with --scope and --redirect-uri, once',
  'redeem --redirect-uri':
    'test/cli/web-flows.test.ts › redeem --code: a bare code with --scope and --redirect-uri, once',
  'redeem --flow-file':
    'test/cli/web-flows.test.ts › a flow file (0600) is redeemed with the redirect URL, once',
  'redeem --response':
    'test/cli/web-flows.test.ts › a flow file (0600) is redeemed with the redirect URL, once',
  'migrate-rt --scope':
    'test/cli/web-flows.test.ts › migrate-rt from stdin and from a file; the account is printed',
  'migrate-rt --refresh-token-stdin':
    'test/cli/web-flows.test.ts › migrate-rt from stdin and from a file; the account is printed',
  'migrate-rt --refresh-token-file':
    'test/cli/web-flows.test.ts › migrate-rt from stdin and from a file; the account is printed',
  'migrate-rt --output':
    'test/cli/web-flows.test.ts › migrate-rt from stdin and from a file; the account is printed',
  'client-token --scope':
    'test/cli/client-token.test.ts › a secret from the environment gets a token; the second run is a cache hit',
  'client-token --on-behalf-of':
    'test/cli/web-flows.test.ts › on-behalf-of twice: one request, then the cache',
  'client-token --force-refresh':
    'test/cli/option-effects.test.ts › client-token --on-behalf-of --force-refresh asks again',
  'client-token --managed-identity':
    'test/cli/managed-identity.test.ts › IMDS, system-assigned: a token, then a cache hit with no request',
  'client-token --object-id':
    'test/cli/managed-identity.test.ts › IMDS, user-assigned by client id, object id or resource id',
  'client-token --mi-resource-id':
    'test/cli/managed-identity.test.ts › IMDS, user-assigned by client id, object id or resource id',
  'client-token --exclude-scope':
    'test/cli/option-effects.test.ts › client-token --on-behalf-of --force-refresh asks again instead of using the cached token; --exclude-scope drops offline_access',
  'client-token --region':
    'test/cli/web-flows.test.ts › --region sends client credentials to the regional host',
  'serve --port': 'test/cli/serve.test.ts › each run has a new secret; --port is honoured',
  'serve --allow-resource':
    'test/cli/serve.test.ts › 401 without the secret, 403 outside --allow-resource, 400 for a bad request',
  'serve --account':
    'test/cli/serve.test.ts › --account picks one of several signed-in accounts; without it serve does not guess',
  'serve --output': 'test/cli/serve.test.ts › -o json prints one object with the two variables',
  'serve --managed-identity':
    'test/cli/serve.test.ts › --managed-identity: a user-assigned identity’s tokens, as client-token takes them',
  'serve --object-id':
    'test/cli/serve.test.ts › sources that cannot apply are refused at once: exit 2 (or 3 with no one signed in)',
  'serve --mi-resource-id':
    'test/cli/serve.test.ts › sources that cannot apply are refused at once: exit 2 (or 3 with no one signed in)',
  'serve --region':
    'test/cli/serve.test.ts › sources that cannot apply are refused at once: exit 2 (or 3 with no one signed in)',
  'login --no-browser':
    'test/cli/option-effects.test.ts › login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge',
  'login --prompt':
    'test/cli/option-effects.test.ts › login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge',
  'login --login-hint':
    'test/cli/option-effects.test.ts › login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge',
  'login --domain-hint':
    'test/cli/option-effects.test.ts › login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge',
  'login --claims-challenge':
    'test/cli/option-effects.test.ts › login --no-browser prints only the URL, which carries --prompt, --login-hint, --domain-hint and --claims-challenge',
  'token --resource':
    'test/cli/option-effects.test.ts › token --resource asks for <resource>/.default with the refresh token',
  'token --claims-challenge':
    'test/cli/token.test.ts › --force-refresh asks the identity provider even with a valid token',
  'accounts --output':
    'test/cli/accounts-logout.test.ts › accounts -o json: exactly the fields of get_accounts, one object per account',
  // accounts and logout send no HTTP request: their TLS and timeout options act on a rediss:// cache.
  'accounts --ca-file':
    'test/cli/redis-cache.test.ts › rediss:// verifies the server with --ca-file as HTTPS does, or not at all with --insecure',
  'accounts --insecure':
    'test/cli/redis-cache.test.ts › rediss:// verifies the server with --ca-file as HTTPS does, or not at all with --insecure',
  'accounts --timeout':
    'test/cli/redis-cache.test.ts › a Redis that accepts connections but never answers costs at most --timeout, then the file',
  'logout --ca-file':
    'test/cli/redis-cache.test.ts › rediss:// verifies the server with --ca-file as HTTPS does, or not at all with --insecure',
  'logout --insecure':
    'test/cli/redis-cache.test.ts › rediss:// verifies the server with --ca-file as HTTPS does, or not at all with --insecure',
  'logout --timeout':
    'test/cli/redis-cache.test.ts › a Redis that accepts connections but never answers costs at most --timeout, then the file',
  'auth-url --redirect-uri':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --state':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --nonce':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --prompt':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --login-hint':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --domain-hint':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --response-type':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --claims-challenge':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --max-age':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'auth-url --response-mode':
    'test/cli/web-flows.test.ts › auth-url puts every parameter given on the wire, as MSAL does',
  'redeem --nonce':
    'test/cli/option-effects.test.ts › redeem --code: --nonce is checked against the ID token; --claims-challenge goes on the wire',
  'redeem --claims-challenge':
    'test/cli/option-effects.test.ts › redeem --code: --nonce is checked against the ID token; --claims-challenge goes on the wire',
  'redeem --output':
    'test/cli/web-flows.test.ts › a flow file (0600) is redeemed with the redirect URL, once',
  'client-token --resource':
    'test/cli/client-token.test.ts › the Azure SDK variables alone are enough',
  'client-token --client-claims':
    'test/cli/client-token.test.ts › a certificate: RS256 assertion with x5t computed from the certificate, no x5c unless asked',
  'client-token --output': 'test/cli/client-token.test.ts › -o json and -o header',
  'decode --verify':
    'test/cli/decode.test.ts › a token from the test STS: {header, claims} as JSON when piped; --verify fetches discovery and keys',
  'decode --output':
    'test/cli/decode.test.ts › a table: times also in local time (TZ) with the time left',
  'decode --ca-file':
    'test/cli/decode.test.ts › faults on the way to the keys: 5xx, a hang past --timeout, an untrusted certificate',
  'decode --timeout':
    'test/cli/decode.test.ts › faults on the way to the keys: 5xx, a hang past --timeout, an untrusted certificate',
  'decode --proxy': 'test/cli/decode.test.ts › --proxy carries the requests of --verify',
  'decode --insecure': 'test/cli/decode.test.ts › --insecure works without the CA, with a warning',
  'decode --verbose': 'test/cli/decode.test.ts › --verbose logs the requests, never the token',
  'decode --log-level':
    'test/cli/leaks.test.ts › every command, then a scan of everything they wrote to stderr',
  'git-credential --host':
    'test/cli/git-credential.test.ts › Azure DevOps hosts on any port, <org>.visualstudio.com, --host',
  'git-credential --account':
    'test/cli/git-credential.test.ts › several accounts: exit 2 naming them',
  'git-credential --region':
    'test/cli/git-credential.test.ts › --region acts in the client credential mode: the token request goes to the regional host',
  'git-credential --managed-identity':
    'test/cli/git-credential.test.ts › --managed-identity (system- or user-assigned by --object-id / --mi-resource-id)',
  'git-credential --object-id':
    'test/cli/git-credential.test.ts › --managed-identity (system- or user-assigned by --object-id / --mi-resource-id)',
  'git-credential --mi-resource-id':
    'test/cli/git-credential.test.ts › --managed-identity (system- or user-assigned by --object-id / --mi-resource-id)',
  'config unset --profile':
    'test/cli/profiles.test.ts › set, get, unset and list keep profiles in a 0600 file in a 0700 directory',
  'config get --profile':
    'test/cli/profiles.test.ts › set, get, unset and list keep profiles in a 0600 file in a 0700 directory',
  'config list --profile':
    'test/cli/profiles.test.ts › set, get, unset and list keep profiles in a 0600 file in a 0700 directory',
  'config list --output':
    'test/cli/profiles.test.ts › set, get, unset and list keep profiles in a 0600 file in a 0700 directory',
  'config set --profile':
    'test/cli/profiles.test.ts › a named profile is laid over the default one',
}

function* commandOptions(command: Command, prefix: string): Generator<[string, string]> {
  for (const sub of command.commands) {
    const name = `${prefix}${sub.name()}`
    for (const option of sub.options) {
      yield [name, option.long ?? option.short ?? '']
    }
    yield* commandOptions(sub, `${name} `)
  }
}

const allOptions = async () => [...commandOptions(await fullProgram(processIo()), '')]

function proofOf(command: string, option: string): Proof | undefined {
  return perCommand[`${command} ${option}`] ?? shared[option]
}

test('every option of every command names a test that shows its effect or its refusal', async () => {
  const missing = (await allOptions())
    .filter(([command, option]) => proofOf(command, option) === undefined)
    .map(([command, option]) => `${command} ${option}`)
  assert.deepEqual(missing, [], 'add each to perCommand (or shared) with the test that proves it')
})

test('each named test exists with that title', () => {
  for (const proof of [...Object.values(shared), ...Object.values(perCommand)]) {
    const [file = '', title = ''] = proof.split(' › ')
    const text = readFileSync(resolve(root, file), 'utf8')
    assert.ok(text.includes(title), `${file} has a test "${title}"`)
  }
})

test('the map names only options that exist', async () => {
  const options = await allOptions()
  const keys = new Set(options.map(([command, option]) => `${command} ${option}`))
  const longs = new Set(options.map(([, option]) => option))
  for (const key of Object.keys(perCommand)) {
    assert.ok(keys.has(key), `${key} is an option`)
  }
  for (const option of Object.keys(shared)) {
    assert.ok(longs.has(option), `${option} is an option`)
  }
})
