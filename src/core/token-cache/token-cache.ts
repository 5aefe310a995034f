import { UsageError } from '../kernel/errors.js'
import { maxJsonDepth, nestsTooDeep } from '../kernel/json-depth.js'
import { targetCovers, targetOf } from '../protocol/scopes.js'
import { sameEnvironment } from './aliases.js'
import { accessTokenKey, accountKey, appMetadataKey, idTokenKey, refreshTokenKey } from './keys.js'
import type {
  AccessTokenEntry,
  AccountEntry,
  AppMetadataEntry,
  CacheDocument,
  IdTokenEntry,
  RefreshTokenEntry,
} from './schema.js'
import {
  isAccessToken,
  isAccount,
  isAppMetadata,
  isIdToken,
  isRecord,
  isRefreshToken,
  popSection,
  sections,
} from './schema.js'
import { homeAccountIdOf, type IdTokenClaims } from '../protocol/client-info.js'
import type { TokenResponse } from '../protocol/token-response.js'

export interface CacheEvent {
  clientId: string
  /** The configured authority's host: MSAL Python writes every entry under it. */
  environment: string
  /** The tenant segment of the token endpoint. */
  realm: string
  /** The scopes that were sent, used as the target when the answer has no `scope`. */
  scopes: readonly string[]
  response: TokenResponse
  idTokenClaims?: IdTokenClaims
  grantType: string
  /** ROPC's username, the account's last resort for a username. */
  username?: string
  keyId?: string
  /** On-behalf-of: tokens are kept per incoming user assertion (msal-node's field). */
  userAssertionHash?: string
  /** Silent refreshes never create accounts, so a concurrent sign-out holds. */
  skipAccountCreation?: boolean
  /** The refresh token the grant redeemed: a new one replaces its secret in place instead of adding an entry. */
  redeemedRefreshToken?: RefreshTokenEntry
  now: number
}

export interface AccessTokenQuery {
  clientId: string
  environment: string
  realm: string
  /** null for app-only tokens. */
  homeAccountId: string | null
  scopes: readonly string[]
  keyId?: string
  /** Proof-of-Possession tokens are found only by PoP lookups (with keyId), bearer ones only by the others. */
  authScheme?: 'pop'
  /** On-behalf-of lookups match the assertion instead of the account. */
  userAssertionHash?: string
}

const accountSourceGrants = new Set([
  'authorization_code',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
  'broker',
])

/** MSAL's unified token cache in memory: load it from JSON, change it, save it back as JSON. */
export class SerializableTokenCache {
  #doc: CacheDocument = emptyDocument()
  #changed = false

  /** True after any change since the last serialize or deserialize. */
  get hasStateChanged(): boolean {
    return this.#changed
  }

  /** Replaces the whole state. Unknown sections and fields are kept and written back as they were. */
  deserialize(state: string | Record<string, unknown> | undefined): void {
    const parsed = typeof state === 'string' ? parsedState(state) : (state ?? {})
    if (nestsTooDeep(parsed)) {
      throw new UsageError(
        'invalid_cache',
        `the token cache is damaged: it nests deeper than ${maxJsonDepth} levels`,
      )
    }
    this.#doc = { ...emptyDocument(), ...(isRecord(parsed) ? parsed : {}) }
    for (const section of sections) {
      if (!isRecord(this.#doc[section])) {
        this.#doc[section] = {}
      }
    }
    this.#changed = false
  }

  serialize(): string {
    this.#changed = false
    return JSON.stringify(this.#doc, null, 4)
  }

  /**
   * A copy of the document, for persistence layers that store objects: an edit to the document
   * itself would reach what serialize() writes without hasStateChanged knowing.
   */
  toJSON(): CacheDocument {
    return structuredClone(this.#doc)
  }

  /** Stores what a token response carries: access, refresh and ID tokens, the account, the app metadata. */
  add(event: CacheEvent): void {
    const { response, now } = event
    const homeAccountId = homeAccountIdOf(response.client_info, event.idTokenClaims)
    const target =
      response.scope !== undefined
        ? targetOf(response.scope.split(/\s+/).filter(Boolean))
        : targetOf(event.scopes)
    const base = { environment: event.environment, client_id: event.clientId }
    this.#purgeExpired(now)
    if (response.access_token) {
      const expiresIn = expiresInOf(response, now)
      const tokenType = response.token_type ?? 'Bearer'
      const at: AccessTokenEntry = {
        credential_type:
          schemeOf(tokenType) === 'pop' ? 'AccessToken_With_AuthScheme' : 'AccessToken',
        secret: response.access_token,
        home_account_id: homeAccountId,
        ...base,
        realm: event.realm,
        target,
        token_type: tokenType,
        cached_at: String(now),
        expires_on: String(now + expiresIn),
        extended_expires_on: String(now + (toInt(response.ext_expires_in) ?? expiresIn)),
      }
      const refreshIn = toInt(response.refresh_in)
      if (refreshIn !== undefined) {
        at.refresh_on = String(now + refreshIn)
      }
      if (event.keyId !== undefined) {
        at.key_id = event.keyId
      }
      if (event.userAssertionHash !== undefined) {
        at.user_assertion_hash = event.userAssertionHash
      }
      const section =
        at.credential_type === 'AccessToken' ? this.#doc.AccessToken : this.#writablePopTokens()
      section[accessTokenKey(at)] = at
    }
    if (homeAccountId !== null && response.id_token) {
      const idt: IdTokenEntry = {
        credential_type: 'IdToken',
        secret: response.id_token,
        home_account_id: homeAccountId,
        ...base,
        realm: event.realm,
      }
      this.#doc.IdToken[idTokenKey(idt)] = idt
    }
    if (homeAccountId !== null && !event.skipAccountCreation) {
      const claims = event.idTokenClaims ?? {}
      const account: AccountEntry = {
        home_account_id: homeAccountId,
        environment: event.environment,
        realm: event.realm,
        local_account_id: stringClaim(claims, 'oid') ?? stringClaim(claims, 'sub') ?? homeAccountId,
        username:
          stringClaim(claims, 'preferred_username') ??
          stringClaim(claims, 'upn') ??
          event.username ??
          '',
        authority_type: event.realm.toLowerCase() === 'adfs' ? 'ADFS' : 'MSSTS',
      }
      if (accountSourceGrants.has(event.grantType)) {
        account.account_source = event.grantType
      }
      this.#doc.Account[accountKey(account)] = account
    }
    if (homeAccountId !== null && response.refresh_token && event.redeemedRefreshToken) {
      this.#updateRefreshToken(event.redeemedRefreshToken, response.refresh_token, now)
    } else if (homeAccountId !== null && response.refresh_token) {
      const rt: RefreshTokenEntry = {
        credential_type: 'RefreshToken',
        secret: response.refresh_token,
        home_account_id: homeAccountId,
        ...base,
        target,
        last_modification_time: String(now),
      }
      if (response.foci) {
        rt.family_id = response.foci
      }
      if (event.userAssertionHash !== undefined) {
        rt.user_assertion_hash = event.userAssertionHash
      }
      this.#doc.RefreshToken[refreshTokenKey(rt)] = rt
    }
    const meta: AppMetadataEntry = { ...base }
    if (response.foci) {
      meta.family_id = response.foci
    }
    this.#doc.AppMetadata[appMetadataKey(meta)] = meta
    this.#changed = true
  }

  /** Access tokens that match the query, the longest-lived first. Expired ones are left to the caller's margin. */
  findAccessTokens(query: AccessTokenQuery): AccessTokenEntry[] {
    const section = query.authScheme === 'pop' ? this.#popTokens() : this.#doc.AccessToken
    return Object.values(section)
      .filter(
        (at) =>
          isAccessToken(at) &&
          sameScheme(at, query) &&
          at.client_id === query.clientId &&
          sameEnvironment(at.environment, query.environment) &&
          sameText(at.realm, query.realm) &&
          (query.userAssertionHash !== undefined
            ? at.user_assertion_hash === query.userAssertionHash
            : sameHomeAccount(at.home_account_id, query.homeAccountId)) &&
          typeof at.target === 'string' &&
          targetCovers(at.target, query.scopes),
      )
      .sort((a, b) => Number(b.expires_on) - Number(a.expires_on))
  }

  /** The key a bearer access token found here is kept under, as the file spells it. */
  accessTokenKeyOf(entry: AccessTokenEntry): string | undefined {
    const section = this.#doc.AccessToken
    return Object.keys(section).find((key) => section[key] === entry)
  }

  /** Refresh tokens of an account in an environment, the most recently written first. */
  findRefreshTokens(query: {
    environment: string
    homeAccountId: string
    clientId?: string
    familyId?: string
  }): RefreshTokenEntry[] {
    return Object.values(this.#doc.RefreshToken)
      .filter(
        (rt) =>
          isRefreshToken(rt) &&
          sameEnvironment(rt.environment, query.environment) &&
          sameHomeAccount(rt.home_account_id, query.homeAccountId) &&
          (query.clientId === undefined || rt.client_id === query.clientId) &&
          (query.familyId === undefined || rt.family_id === query.familyId),
      )
      .sort((a, b) => Number(b.last_modification_time ?? 0) - Number(a.last_modification_time ?? 0))
  }

  appMetadata(clientId: string, environment: string): AppMetadataEntry | undefined {
    return Object.values(this.#doc.AppMetadata).find(
      (m) =>
        isAppMetadata(m) && m.client_id === clientId && sameEnvironment(m.environment, environment),
    )
  }

  /** Account entries of an environment. */
  accounts(environment: string): AccountEntry[] {
    return Object.values(this.#doc.Account).filter(
      (a) => isAccount(a) && sameEnvironment(a.environment, environment),
    )
  }

  idToken(query: {
    homeAccountId: string
    environment: string
    clientId: string
    realm?: string
  }): IdTokenEntry | undefined {
    return Object.values(this.#doc.IdToken).find(
      (t) =>
        isIdToken(t) &&
        sameHomeAccount(t.home_account_id, query.homeAccountId) &&
        sameEnvironment(t.environment, query.environment) &&
        t.client_id === query.clientId &&
        (query.realm === undefined || sameText(t.realm, query.realm)),
    )
  }

  /**
   * Signs an account out of an environment, as MSAL does: its refresh tokens of this app (or its
   * family), and its access tokens (PoP ones too), ID tokens and account entries of every app and
   * tenant.
   */
  removeAccount(account: { home_account_id: string; environment: string }, clientId: string): void {
    // MSAL Python writes a null family_id for apps outside any family.
    const familyId = this.appMetadata(clientId, account.environment)?.family_id ?? undefined
    const mine = (entry: Owned) =>
      sameHomeAccount(entry.home_account_id as string, account.home_account_id) &&
      sameEnvironment(entry.environment, account.environment)
    for (const [key, rt] of Object.entries(this.#doc.RefreshToken)) {
      if (
        isRefreshToken(rt) &&
        mine(rt) &&
        (rt.client_id === clientId || (familyId !== undefined && rt.family_id === familyId))
      ) {
        delete this.#doc.RefreshToken[key]
        this.#changed = true
      }
    }
    const owned: [Record<string, Owned>, (entry: unknown) => boolean][] = [
      [this.#doc.AccessToken, isAccessToken],
      [this.#popTokens(), isAccessToken],
      [this.#doc.IdToken, isIdToken],
      [this.#doc.Account, isAccount],
    ]
    for (const [entries, valid] of owned) {
      for (const [key, entry] of Object.entries(entries)) {
        if (valid(entry) && mine(entry)) {
          delete entries[key]
          // As MSAL: only a change changes the state, and signing out nobody is none.
          this.#changed = true
        }
      }
    }
  }

  #updateRefreshToken(entry: RefreshTokenEntry, secret: string, now: number): void {
    const found = Object.entries(this.#doc.RefreshToken).find(
      ([, rt]) =>
        isRefreshToken(rt) && rt.secret === entry.secret && rt.client_id === entry.client_id,
    )
    if (found === undefined) {
      return
    }
    const [oldKey, rt] = found
    delete this.#doc.RefreshToken[oldKey]
    const updated = { ...rt, secret, last_modification_time: String(now) }
    this.#doc.RefreshToken[refreshTokenKey(updated)] = updated
  }

  /**
   * Drops the app-only access tokens of a client, in the given environments. msal-ts's PoP tokens
   * are all of accounts, so only the `AccessToken` section holds app-only ones.
   */
  removeClientTokens(clientId: string, environments: readonly string[]): void {
    for (const [key, at] of Object.entries(this.#doc.AccessToken)) {
      if (
        isAccessToken(at) &&
        at.client_id === clientId &&
        sameHomeAccount(at.home_account_id, null) &&
        environments.some((e) => sameEnvironment(at.environment, e))
      ) {
        delete this.#doc.AccessToken[key]
        this.#changed = true
      }
    }
  }

  #purgeExpired(now: number): void {
    for (const section of [this.#doc.AccessToken, this.#popTokens()]) {
      for (const [key, at] of Object.entries(section)) {
        if (isAccessToken(at) && Number(at.expires_on) < now) {
          delete section[key]
        }
      }
    }
  }

  /**
   * msal-ts's PoP tokens (see `popSection`). The section is made on the first PoP token only, so
   * a cache that never held one is written as MSAL Python writes it.
   */
  /** The PoP token section, or an empty one when the document has none (nothing is added). */
  #popTokens(): Record<string, AccessTokenEntry> {
    const section = this.#doc[popSection]
    return isRecord(section) ? section : {}
  }

  /** The PoP token section, added to the document when it has none (or one that is not a section). */
  #writablePopTokens(): Record<string, AccessTokenEntry> {
    const section = this.#popTokens()
    this.#doc[popSection] = section
    return section
  }
}

interface Owned {
  home_account_id: unknown
  environment: unknown
}

function emptyDocument(): CacheDocument {
  return { AccessToken: {}, RefreshToken: {}, IdToken: {}, Account: {}, AppMetadata: {} }
}

/** MSAL Python writes null for app-only tokens, msal-node writes "": both mean "no account". */
function sameHomeAccount(stored: string | null | undefined, wanted: string | null): boolean {
  if (wanted === null) {
    return stored === null || stored === '' || stored === undefined
  }
  return typeof stored === 'string' && stored.toLowerCase() === wanted.toLowerCase()
}

/**
 * A PoP lookup finds only PoP tokens of its key. A bearer lookup never finds a token bound to a
 * key (PoP, MSAL Python's external-key PoP, SSH certificates): it would be useless as a bearer.
 */
function sameScheme(at: AccessTokenEntry, query: AccessTokenQuery): boolean {
  if (query.authScheme === 'pop') {
    return (
      at.credential_type === 'AccessToken_With_AuthScheme' &&
      schemeOf(at.token_type) === 'pop' &&
      at.key_id === query.keyId
    )
  }
  return (
    at.credential_type === 'AccessToken' &&
    schemeOf(at.token_type) !== 'pop' &&
    (at.key_id === undefined || at.key_id === query.keyId)
  )
}

/** ADFS answers "bearer", Entra "Bearer", MSAL Python's external-key PoP "pop". */
function schemeOf(tokenType: unknown): string {
  return typeof tokenType === 'string' ? tokenType.toLowerCase() : 'bearer'
}

function sameText(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase()
}

function expiresInOf(response: TokenResponse, now: number): number {
  const expiresIn = toInt(response.expires_in)
  if (expiresIn !== undefined) {
    return expiresIn
  }
  const expiresOn = toInt(response.expires_on)
  return expiresOn !== undefined ? expiresOn - now : 600
}

/** Entra's v1 endpoints send numbers as strings. */
function toInt(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number.parseInt(value, 10) : value
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : undefined
}

function stringClaim(claims: IdTokenClaims, name: string): string | undefined {
  const value = claims[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function parsedState(text: string): unknown {
  if (text.trim() === '') {
    return {}
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError('invalid_cache', 'the token cache is damaged: it is not valid JSON', {
      cause: error,
    })
  }
}
