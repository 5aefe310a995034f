import { absolutePath } from '../../core/kernel/safe-file.js'
import { parseAuthority } from '../../core/authority/authority.js'
import { regionLabel } from '../../core/authority/region.js'
import { controlCharacter } from '../../core/kernel/control-characters.js'
import { UsageError } from '../../core/kernel/errors.js'
import { proxyUrlProblem } from '../../core/session/option-checks.js'
import { checkedTenant, logLevels, parseTimeout } from './settings.js'
import { parseCacheUrl, urlHasPassword } from './cache-url.js'
import { tokenFormats } from './output.js'
import { printable } from './printable.js'
import type { ProfileKeyName } from './profile.js'
import { SuggestedUsageError, checkAuthorityScheme } from './suggestion.js'

/** What a profile may hold: defaults for common options, each checked when it is set. */
interface ProfileKey {
  description: string
  /** The value as stored: checked, paths made absolute so they mean the same from any directory. */
  check: (value: string) => string
}

const text = (value: string) => value.trim()
const path = (value: string) => absolutePath(value)
const url = (value: string) => new URL(value).href.replace(/\/$/, '')
const oneOf = (values: readonly string[]) => (value: string) => {
  if (!values.includes(value)) {
    throw new Error(`use ${values.join(', ')}`)
  }
  return value
}

/** Add a key here and to resolveCommon's layers (settings.ts) to make it a profile default. */
export const profileKeys: Record<ProfileKeyName, ProfileKey> = {
  'client-id': { description: 'application (client) id', check: text },
  authority: {
    description: 'authority URL',
    check: (v) => {
      checkAuthorityScheme(v)
      return parseAuthority(v).url
    },
  },
  tenant: {
    description: 'tenant id or domain, on the cloud',
    check: (v) => checkedTenant(v.trim()),
  },
  cloud: {
    description: 'public, usgov, china, or an authority host URL',
    check: (v) => (/^(public|usgov|china|https?:\/\/[^/\s]+\/?|[a-z0-9.-]+)$/i.test(v) ? v : ''),
  },
  'oidc-authority': {
    description: 'any OpenID provider',
    check: (v) => {
      checkAuthorityScheme(v)
      return parseAuthority(v, { oidc: true }).url
    },
  },
  'cache-dir': { description: 'directory of the default token and HTTP caches', check: path },
  'cache-file': { description: 'token cache file', check: path },
  output: {
    description: `token output format: ${tokenFormats.join(', ')}`,
    check: oneOf(tokenFormats),
  },
  region: {
    description: 'Azure region for client credentials, or auto',
    check: (v) => (v.trim().toLowerCase() === 'auto' ? 'auto' : (regionLabel(v) ?? '')),
  },
  timeout: { description: 'seconds per HTTP request', check: (v) => String(parseTimeout(v)) },
  'log-level': { description: logLevels.join(', '), check: oneOf(logLevels) },
  proxy: {
    description: 'HTTP(S) proxy URL',
    check: (v) => {
      refuseSecretIn(v, "give a proxy's password in HTTPS_PROXY or --proxy")
      const problem = proxyUrlProblem(v)
      if (problem !== undefined) {
        throw new Error(`a proxy ${problem}`)
      }
      return url(v)
    },
  },
  'ca-file': { description: 'extra trusted CA certificates (PEM file)', check: path },
  'cache-url': {
    description: 'redis:// or rediss:// URL of a token cache shared through Redis',
    check: (v) => {
      refuseSecretIn(v, 'keep the Redis password in MSAL_TS_REDIS_PASSWORD or REDISCLI_AUTH')
      parseCacheUrl(v, {})
      return v.trim()
    },
  },
}

/** Keys that name a secret: a config file is no place for one. */
const secretKey = /secret|password|refresh-token|assertion|private-key/i

/** The key checked: known and not a secret, else a usage error naming it. */
export function profileKey(key: string): ProfileKey {
  if (secretKey.test(key)) {
    throw new UsageError(
      'secret_not_allowed',
      `${JSON.stringify(key)} is a secret, and profiles hold no secrets; use its environment variable or stdin option`,
    )
  }
  const known = Object.hasOwn(profileKeys, key) ? profileKeys[key as ProfileKeyName] : undefined
  if (known === undefined) {
    throw new UsageError(
      'unknown_config_key',
      `unknown config key ${JSON.stringify(key)}; known keys: ${Object.keys(profileKeys).join(', ')}`,
    )
  }
  return known
}

/** A URL with a password is refused, without echoing it: a profile never holds a secret. */
function refuseSecretIn(url: string, whereInstead: string): void {
  if (urlHasPassword(url)) {
    throw new UsageError('secret_not_allowed', `profiles hold no secrets: ${whereInstead}`)
  }
}

/** The value to store for key, or a usage error naming both. */
export function checkProfileValue(key: string, value: string): string {
  const known = profileKey(key)
  // No setting holds one; in a value it would reach the wire, the terminal or a line of its own.
  if (controlCharacter.test(value)) {
    throw new UsageError(
      'invalid_config_value',
      `the value for ${key} holds a control character (${printable(value)})`,
    )
  }
  let checked: string
  try {
    checked = known.check(value)
  } catch (error) {
    // Said without echoing the value, which holds a secret.
    if (error instanceof UsageError && error.code === 'secret_not_allowed') {
      throw error
    }
    const reason = error instanceof Error ? `: ${error.message}` : ''
    const message = `${JSON.stringify(value)} is not a valid ${key}${reason}`
    throw error instanceof SuggestedUsageError
      ? new SuggestedUsageError('invalid_config_value', message, error.suggestion)
      : new UsageError('invalid_config_value', message)
  }
  if (!checked) {
    throw new UsageError('invalid_config_value', `${JSON.stringify(value)} is not a valid ${key}`)
  }
  return checked
}
