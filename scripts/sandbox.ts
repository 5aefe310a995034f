// `npm run sandbox`: a local identity provider to try msal-ts against, up until Ctrl-C. The test
// STS plays login.microsoftonline.com on loopback with a CA made at start; the lines printed set
// a shell up to use it, with its own cache and config directories, so nothing real is touched.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startSts } from '../test/fixtures/sts/index.js'

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`

const sts = await startSts()
const home = await mkdtemp(join(tmpdir(), 'msal-ts-sandbox-'))
const exports: Record<string, string> = {
  MSAL_TS_AUTHORITY: sts.authority(),
  MSAL_TS_CA_FILE: sts.caFile,
  MSAL_TS_CLIENT_ID: sts.defaults.publicClientId,
  MSAL_TS_CACHE_DIR: join(home, 'cache'),
  MSAL_TS_CONFIG_DIR: join(home, 'config'),
  SANDBOX_CONFIDENTIAL_CLIENT_ID: sts.defaults.confidentialClientId,
  SANDBOX_CLIENT_SECRET: sts.defaults.clientSecret,
  SANDBOX_USERNAME: sts.defaults.username,
  SANDBOX_PASSWORD: sts.defaults.password,
}
const tryThese = [
  'printf %s "$SANDBOX_PASSWORD" | msal-ts login --username "$SANDBOX_USERNAME" --password-stdin --scope User.Read',
  'msal-ts token --scope User.Read -o json',
  'AZURE_CLIENT_SECRET="$SANDBOX_CLIENT_SECRET" msal-ts client-token -c "$SANDBOX_CONFIDENTIAL_CLIENT_ID" --resource https://graph.microsoft.com',
]
console.log(`A local Entra-shaped identity provider is up at ${sts.authority()}; Ctrl-C stops it.

Paste these lines in another terminal (the public client id is the default; the confidential
client's secret goes in AZURE_CLIENT_SECRET, the test user's password on stdin):

export PATH=${shellQuote(resolve(import.meta.dirname, '../bin'))}:"$PATH"
${Object.entries(exports)
  .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
  .join('\n')}

Then try:
${tryThese.map((command) => `  ${command}`).join('\n')}
`)

process.once('SIGINT', () => {
  void Promise.all([sts.close(), rm(home, { recursive: true, force: true })]).then(() => {
    console.log('The sandbox identity provider has stopped.')
  })
})
