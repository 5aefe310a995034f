/**
 * msal-node's first client-credential token of a fresh process, as a CI job gets it:
 *     AZURE_CLIENT_SECRET=... node msal-node-client.cjs <client_id> <authority> <ca_file> <scope>...
 * Its cache is in memory, so every run starts empty: tenant discovery, then the token request.
 */
import { readFileSync } from 'node:fs'
import { ConfidentialClientApplication } from '@azure/msal-node'
import { discoveryMetadata } from '../../test/interop/msal-node-cache.js'

const [clientId = '', authority = '', caFile = '', ...scopes] = process.argv.slice(2)

async function main(): Promise<void> {
  const app = new ConfidentialClientApplication({
    auth: {
      clientId,
      authority,
      clientSecret: process.env['AZURE_CLIENT_SECRET'] ?? '',
      // Instance discovery would go to login.microsoftonline.com; MSAL Python and msal-ts skip it
      // for a loopback authority too.
      cloudDiscoveryMetadata: discoveryMetadata(authority, 'hostname'),
    },
    system: { customAgentOptions: { ca: readFileSync(caFile, 'utf8') } },
  })
  const result = await app.acquireTokenByClientCredential({ scopes })
  if (result === null) {
    throw new Error('no token')
  }
  process.stdout.write(`${result.accessToken}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`msal-node peer: ${String(error)}\n`)
  process.exitCode = 1
})
