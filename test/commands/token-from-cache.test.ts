import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAuthority, openIdConfigurationUrl } from '../../src/core/authority/authority.js'
import { tokenFromCache } from '../../src/commands/token-from-cache.js'
import type { Io } from '../../src/commands/shared/io.js'

// Until when a cache hit stays the answer: what a memo of it (token-memo/) may rely on.

const clientId = '8a3b2c1d-4e5f-4a6b-9c7d-0e1f2a3b4c5d'
const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const home = `oid.${tenantId}`
const scope = 'https://graph.microsoft.com/User.Read'

interface Case {
  tenant: string
  expiresIn: number
  refreshIn?: number
  discoveryFor?: number
  args?: string[]
}

async function hitOf(c: Case): Promise<{ until: number; now: number; printed: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'msal-ts-hit-'))
  const now = Math.floor(Date.now() / 1000)
  const cacheFile = join(dir, 'cache.json')
  await writeFile(
    cacheFile,
    JSON.stringify({
      Account: {
        a: {
          home_account_id: home,
          environment: 'login.microsoftonline.com',
          realm: tenantId,
          local_account_id: 'oid',
          username: 'alice@contoso.com',
          authority_type: 'MSSTS',
        },
      },
      AccessToken: {
        t: {
          credential_type: 'AccessToken',
          secret: 'the-token',
          home_account_id: home,
          environment: 'login.microsoftonline.com',
          client_id: clientId,
          realm: tenantId,
          target: scope,
          cached_at: String(now),
          expires_on: String(now + c.expiresIn),
          ...(c.refreshIn !== undefined ? { refresh_on: String(now + c.refreshIn) } : {}),
        },
      },
    }),
    { mode: 0o600 },
  )
  if (c.discoveryFor !== undefined) {
    const authority = parseAuthority(`https://login.microsoftonline.com/${c.tenant}`)
    const body = JSON.stringify({
      token_endpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`,
    })
    await writeFile(
      join(dir, 'msal-ts.http-cache.json'),
      JSON.stringify({
        version: 1,
        entries: {
          [`GET ${openIdConfigurationUrl(authority)}`]: {
            expires: now + c.discoveryFor,
            response: { status: 200, headers: {}, body },
          },
        },
      }),
      { mode: 0o600 },
    )
  }
  let printed = ''
  const io = {
    env: { HOME: dir },
    stdout: { write: (text: string) => (printed += text) },
  } as unknown as Io
  const answer = await tokenFromCache(
    [
      ...['-c', clientId, '-a', `https://login.microsoftonline.com/${c.tenant}`],
      ...['--cache-file', cacheFile, '--scope', scope, ...(c.args ?? [])],
    ],
    io,
  )
  assert.ok(answer?.hit, 'no cache hit')
  assert.equal(answer.hit.tokenKey, 't')
  assert.equal(answer.hit.tokenFile, cacheFile)
  return { until: answer.hit.until, now, printed }
}

test('a hit holds until five minutes before its token expires', async () => {
  const { until, now, printed } = await hitOf({ tenant: tenantId, expiresIn: 3600 })
  assert.equal(printed, 'the-token\n')
  assert.equal(until, now + 3600 - 300)
})

test('--min-validity brings that time forward', async () => {
  const { until, now } = await hitOf({
    tenant: tenantId,
    expiresIn: 3600,
    args: ['--min-validity', '900'],
  })
  assert.equal(until, now + 3600 - 900)
})

test('a token due for refresh stops being the answer at its refresh_on', async () => {
  const { until, now } = await hitOf({ tenant: tenantId, expiresIn: 3600, refreshIn: 1200 })
  assert.equal(until, now + 1200)
})

test('a tenant named by its domain holds only while the discovery answer that names its id does', async () => {
  const { until, now } = await hitOf({ tenant: 'contoso.com', expiresIn: 3600, discoveryFor: 600 })
  assert.equal(until, now + 600)
  const later = await hitOf({ tenant: 'contoso.com', expiresIn: 900, discoveryFor: 86400 })
  assert.equal(later.until, later.now + 900 - 300)
})
