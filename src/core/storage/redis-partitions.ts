/**
 * How one token cache document is cut into Redis keys, as MSAL's distributed-cache guidance does:
 * app tokens per client id and tenant, user tokens per account (home_account_id). Each partition is
 * itself a small document in the unified schema, so merging them gives back the whole cache.
 */

/**
 * A refresh token carries no expiry in the cache; Entra ID lets one sit unused for 90 days, so a
 * partition holding one (or an account) lives that long after its last write.
 */
export const longLivedSeconds = 90 * 24 * 3600

export interface PartitionKeys {
  /** App tokens of this client for the authority's tenant. */
  app: string
  /** The set of home_account_ids that have a user partition. */
  users: string
  /** The single-flight lock of this client. */
  lock: string
  user(homeAccountId: string): string
}

/**
 * Keys live under `msal-ts:<client_id>:`. The tenant is the authority's as configured (known
 * before any request); account ids and client ids are lower-cased as MSAL's cache keys are.
 */
export function partitionKeys(clientId: string, tenant: string): PartitionKeys {
  const base = `msal-ts:${clientId.toLowerCase()}`
  return {
    app: `${base}:app:${tenant.toLowerCase()}`,
    users: `${base}:users`,
    lock: `${base}:lock`,
    user: (homeAccountId) => `${base}:user:${homeAccountId.toLowerCase()}`,
  }
}

export interface Partition {
  /** The lower-cased home_account_id of a user partition; undefined for the app partition. */
  account?: string
  document: Record<string, unknown>
  /** How long the key is worth keeping; 0 or less when nothing in it is. */
  ttlSeconds: number
}

/**
 * The partitions of a document, by Redis key. An entry with a home_account_id goes to that account's
 * partition, anything else to the app partition. AppMetadata (which names a client's family) is
 * copied into every partition, so each one read alone is a complete cache for its tokens.
 * An access token keeps its partition alive until it (and its extended lifetime) expires.
 */
export function splitDocument(
  document: Record<string, unknown>,
  keys: PartitionKeys,
  now: number,
): Map<string, Partition> {
  const partitions = new Map<string, Partition>()
  const partitionOf = (account: string | undefined) => {
    const key = account === undefined ? keys.app : keys.user(account)
    let partition = partitions.get(key)
    if (partition === undefined) {
      partition = { ...(account !== undefined ? { account } : {}), document: {}, ttlSeconds: 0 }
      partitions.set(key, partition)
    }
    return partition
  }

  for (const [section, value] of Object.entries(document)) {
    if (section === 'AppMetadata') {
      continue
    }
    if (!isRecord(value)) {
      partitionOf(undefined).document[section] = value
      continue
    }
    for (const [entryKey, entry] of Object.entries(value)) {
      const home = isRecord(entry) ? entry['home_account_id'] : undefined
      const partition = partitionOf(
        typeof home === 'string' && home !== '' ? home.toLowerCase() : undefined,
      )
      const target = (partition.document[section] ??= {}) as Record<string, unknown>
      target[entryKey] = entry
      partition.ttlSeconds = Math.max(partition.ttlSeconds, lifetime(section, entry, now))
    }
  }

  const metadata = document['AppMetadata']
  if (isRecord(metadata) && Object.keys(metadata).length > 0) {
    for (const partition of partitions.values()) {
      partition.document['AppMetadata'] = metadata
    }
  }
  return partitions
}

/** The documents of several partitions as one cache document. */
export function mergePartitions(
  documents: readonly Record<string, unknown>[],
): Record<string, unknown> {
  const merged: Record<string, unknown> = {}
  for (const document of documents) {
    for (const [section, value] of Object.entries(document)) {
      const existing = merged[section]
      merged[section] = isRecord(value) && isRecord(existing) ? { ...existing, ...value } : value
    }
  }
  return merged
}

function lifetime(section: string, entry: unknown, now: number): number {
  if (section !== 'AccessToken' || !isRecord(entry)) {
    return longLivedSeconds
  }
  const expiries = [entry['expires_on'], entry['extended_expires_on']].map(Number)
  return Math.max(0, ...expiries.filter(Number.isFinite)) - now
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
