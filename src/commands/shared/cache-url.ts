import { UsageError } from '../../core/kernel/errors.js'
import type { RedisTarget } from '../../core/storage/redis-store.js'

const shape = 'redis://[user@]host[:port][/db] or rediss://...'

/**
 * `--cache-url` (or MSAL_TS_CACHE_URL, or a profile's; `source` names which) checked and taken apart. The password comes from the URL,
 * else MSAL_TS_REDIS_PASSWORD, else REDISCLI_AUTH (redis-cli's own variable). Messages never
 * repeat the URL, which may carry that password.
 */
export function parseCacheUrl(
  text: string,
  env: NodeJS.ProcessEnv,
  source = '--cache-url',
): RedisTarget {
  const invalid = (why: string) =>
    new UsageError('invalid_cache_url', `${source} must be ${shape}: ${why}`)
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw invalid('it is not a URL')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalid(`the scheme ${JSON.stringify(url.protocol.slice(0, -1))} is not redis or rediss`)
  }
  if (url.hostname === '') {
    throw invalid('it names no host')
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalid('it has a query or fragment, which are not supported')
  }
  const path = url.pathname.replace(/^\//, '')
  if (path !== '' && !/^\d{1,5}$/.test(path)) {
    throw invalid(`the database ${JSON.stringify(path)} is not a number`)
  }
  const username = decodeURIComponent(url.username)
  const password =
    decodeURIComponent(url.password) || env['MSAL_TS_REDIS_PASSWORD'] || env['REDISCLI_AUTH']
  return {
    // [::1] comes back bracketed from URL; the socket wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    db: path === '' ? 0 : Number(path),
    tls: url.protocol === 'rediss:',
    ...(username !== '' ? { username } : {}),
    ...(password ? { password } : {}),
  }
}

/** Whether the URL itself carries a password (then it should not be on the command line). */
export function urlHasPassword(text: string): boolean {
  return URL.canParse(text.trim()) && new URL(text.trim()).password !== ''
}
