// `npm run demo`: msal-ts's main job against a local identity provider. The test STS plays
// login.microsoftonline.com on loopback; msal-ts runs twice, once to the provider, once from the cache.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { startSts } from '../test/fixtures/sts/index.js'

const bin = resolve(import.meta.dirname, '../bin/msal-ts')
const sts = await startSts()
const home = await mkdtemp(join(tmpdir(), 'msal-ts-demo-'))
try {
  const args = [
    'client-token',
    '--client-id',
    sts.defaults.confidentialClientId,
    '--authority',
    sts.authority(),
  ]
  args.push('--ca-file', sts.caFile, '--resource', 'https://graph.microsoft.com', '-o', 'json')
  const env = {
    AZURE_CLIENT_SECRET: sts.defaults.clientSecret,
    MSAL_TS_CACHE_DIR: join(home, 'cache'),
  }
  console.log(`A local Entra-shaped identity provider is listening at ${sts.url}.\n`)
  for (const run of ['first run', 'second run']) {
    const started = performance.now()
    const result = await execa(bin, args, { env, reject: false })
    const ms = Math.round(performance.now() - started)
    console.log(`$ AZURE_CLIENT_SECRET=*** msal-ts ${args.join(' ')}   # ${run}, ${ms} ms`)
    if (result.exitCode !== 0) {
      throw new Error(`msal-ts failed: ${String(result.stderr)}`)
    }
    const token = JSON.parse(String(result.stdout)) as Record<string, unknown>
    const shown = { ...token, access_token: `${String(token['access_token']).slice(0, 24)}…` }
    console.log(JSON.stringify(shown, null, 2), '\n')
  }
  console.log(
    `Requests the identity provider saw: ${sts.log.map((r) => `${r.method} ${r.path}`).join(', ')}`,
  )
} finally {
  await sts.close()
  await rm(home, { recursive: true, force: true })
}
