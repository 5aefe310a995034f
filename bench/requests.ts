import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogEntry } from '../test/fixtures/sts/index.js'
import type { Finished } from './processes.js'
import { appScope, userScope, type Workspace } from './workspace.js'

export const burst = 20

export interface RequestCount {
  scenario: string
  requests: LogEntry[]
  ok: boolean
}

export interface Burst {
  processes: number
  succeeded: number
  distinctTokens: number
  /** Token-endpoint POSTs (for the refresh case, those with grant_type=refresh_token). */
  tokenRequests: number
  allRequests: number
  /** GETs: tenant (and instance) discovery. */
  discoveryRequests: number
  /** e.g. `20× GET …/openid-configuration, 1× POST …/token` */
  breakdown: string
  wallMs: number
}

export function clientTokenArgs(ws: Workspace, cacheFile: string): string[] {
  const { sts } = ws
  return [
    'client-token',
    ...sts.cliArgs(sts.defaults.confidentialClientId),
    '--cache-file',
    cacheFile,
    '--scope',
    appScope,
  ]
}

/** What `client-token` asks the STS for, by what is already cached. */
export async function clientTokenRequestCounts(ws: Workspace): Promise<RequestCount[]> {
  const cacheFile = join(ws.dir, 'counts', 'token-cache.json')
  const env = { AZURE_CLIENT_SECRET: ws.sts.defaults.clientSecret }
  const counted = async (scenario: string): Promise<RequestCount> => {
    ws.sts.clearLog()
    const result = await ws.msalTs(clientTokenArgs(ws, cacheFile), { env })
    return { scenario, requests: [...ws.sts.log], ok: result.code === 0 }
  }
  const cold = await counted('cold everything (empty cache dir)')
  // The HTTP cache lives beside the token cache, so removing only the token file keeps discovery.
  await rm(cacheFile)
  const warmHttp = await counted('cold token cache, warm HTTP cache')
  const warm = await counted('warm token cache')
  return [warmHttp, cold, warm]
}

/** 20 processes at once want the same app token, and none is cached yet. */
export async function clientTokenBurst(ws: Workspace): Promise<Burst> {
  const cacheFile = join(ws.dir, 'burst-client', 'token-cache.json')
  const env = { AZURE_CLIENT_SECRET: ws.sts.defaults.clientSecret }
  ws.sts.clearLog()
  const { results, wallMs } = await all(() => ws.msalTs(clientTokenArgs(ws, cacheFile), { env }))
  return summarize(results, wallMs, ws.sts.tokenRequests().length, ws.sts.log)
}

/** 20 processes at once find the user's access token expired, with the refresh token still good. */
export async function refreshBurst(ws: Workspace): Promise<Burst> {
  const cacheFile = join(ws.dir, 'burst-refresh', 'token-cache.json')
  await ws.login(cacheFile)
  await expireAccessTokens(cacheFile)
  ws.sts.clearLog()
  const { results, wallMs } = await all(() =>
    ws.msalTs(['token', ...ws.publicArgs, '--cache-file', cacheFile, '--scope', userScope]),
  )
  const refreshes = ws.sts.tokenRequests().filter((r) => r.grantType === 'refresh_token').length
  return summarize(results, wallMs, refreshes, ws.sts.log)
}

async function expireAccessTokens(cacheFile: string): Promise<void> {
  const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as {
    AccessToken?: Record<string, Record<string, unknown>>
  }
  const past = String(Math.floor(Date.now() / 1000) - 600)
  const tokens = Object.values(cache.AccessToken ?? {})
  if (tokens.length === 0) {
    throw new Error(`no access token in ${cacheFile} to expire`)
  }
  for (const token of tokens) {
    token['expires_on'] = past
    token['extended_expires_on'] = past
    delete token['refresh_on']
  }
  await writeFile(cacheFile, JSON.stringify(cache, null, 2))
}

export async function all(
  start: () => Promise<Finished>,
): Promise<{ results: Finished[]; wallMs: number }> {
  const started = performance.now()
  const results = await Promise.all(Array.from({ length: burst }, start))
  return { results, wallMs: performance.now() - started }
}

export function summarize(
  results: Finished[],
  wallMs: number,
  tokenRequests: number,
  log: readonly LogEntry[],
): Burst {
  const succeeded = results.filter((r) => r.code === 0)
  const failure = results.find((r) => r.code !== 0)
  if (failure) {
    process.stderr.write(`bench: a process failed (${failure.code}): ${failure.stderr}`)
  }
  const kinds = new Map<string, number>()
  for (const entry of log) {
    const kind = `${entry.method} …/${entry.path.split('/').at(-1) ?? ''}`
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
  }
  return {
    processes: results.length,
    succeeded: succeeded.length,
    distinctTokens: new Set(succeeded.map((r) => r.stdout)).size,
    tokenRequests,
    allRequests: log.length,
    discoveryRequests: log.filter((entry) => entry.method === 'GET').length,
    breakdown: [...kinds].map(([kind, count]) => `${count}× ${kind}`).join(', '),
    wallMs,
  }
}
