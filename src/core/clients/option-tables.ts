import { AuthorityBuilder } from '../authority/authority.js'
import type {
  AssertionCredential,
  CertificateCredential,
  ClientCredential,
} from '../credentials/client-auth.js'
import type { AuthCodeFlowOptions, AuthorizationUrlOptions } from '../grants/auth-code.js'
import { isSafeUrl } from '../http/endpoint-url.js'
import { controlCharacter } from '../kernel/control-characters.js'
import { UsageError } from '../kernel/errors.js'
import type { PopAuthScheme } from '../protocol/pop.js'
import { claimsProblem } from '../protocol/scopes.js'
import type { ManagedIdentityId } from '../managed-identity/sources.js'
import type {
  ClientApplicationOptions,
  ClientTokenOptions,
  SharedClientOptions,
} from '../session/client-options.js'
import {
  callback,
  checkedApart,
  flag,
  isPlainObject,
  nameText,
  oneOf,
  plainObject,
  positiveNumber,
  type Rule,
  type Rules,
  seconds,
  shape,
  text,
  textList,
  tokenList,
  wholeNumber,
  wholeSeconds,
  withMethods,
} from '../session/option-shape.js'
import type { SilentOptions } from '../session/silent.js'
import { SerializableTokenCache } from '../token-cache/token-cache.js'
import type {
  ManagedIdentityClientOptions,
  ManagedIdentityTokenOptions,
} from './managed-identity-options.js'
import type { DeviceFlowOptions, InteractiveOptions } from './public-options.js'

/*
 * What each options object of the public classes may hold. Rules<T> lists every option T
 * declares, so an option added to a type without a rule here does not compile.
 */

const either =
  (...rules: readonly Rule[]): Rule =>
  (value, name) => {
    const problems = rules.map((rule) => rule(value, name))
    return problems.includes(undefined) ? undefined : problems.join(' or ')
  }

const store = withMethods('read', 'write', 'withLock')

/** An instance of the class, which the engine calls into; an object that only looks like one would fail later. */
const instanceOf =
  (type: abstract new (...args: never[]) => unknown, what: string): Rule =>
  (value) =>
    value instanceof type ? undefined : `must be ${what}`

const assertion: Rules<AssertionCredential> = { clientAssertion: either(text, callback) }

const certificate: Rules<CertificateCredential> = {
  privateKey: nameText,
  thumbprint: nameText,
  publicCertificate: nameText,
  passphrase: text,
  sendX5c: flag,
}

/**
 * A credential object that cannot authenticate, refused without showing it (it may hold a private
 * key or its passphrase). A certificate's thumbprint is computed from the certificate when left out.
 */
function checkCredentialParts(value: Record<string, unknown>): void {
  if (value['clientAssertion'] === undefined && value['privateKey'] === undefined) {
    throw new UsageError(
      'invalid_option',
      'clientCredential must be a secret, a certificate with its privateKey, or { clientAssertion }',
    )
  }
  if (
    value['privateKey'] !== undefined &&
    value['thumbprint'] === undefined &&
    value['publicCertificate'] === undefined
  ) {
    throw new UsageError(
      'invalid_option',
      'clientCredential needs the thumbprint of its certificate, or the publicCertificate to compute it from',
    )
  }
}

/**
 * A secret the token service could only refuse: blank, or holding a control character (most
 * likely a line end pasted with it). Refused without showing it, as no credential is shown. The
 * empty secret is no credential at all, which the confidential client refuses as missing.
 */
function checkSecret(secret: string, name: string): void {
  if (secret !== '' && (secret.trim() === '' || controlCharacter.test(secret))) {
    throw new UsageError(
      'invalid_option',
      `${name} as a secret must not be blank or hold a control character (the secret is not shown)`,
    )
  }
}

const clientCredential: Rule = (value, name) => {
  if (typeof value === 'string') {
    checkSecret(value, name)
    return undefined
  }
  if (!isPlainObject(value)) {
    return 'must be a secret, { privateKey, ... } or { clientAssertion }'
  }
  if ('clientAssertion' in value) {
    shape(assertion)(value, name)
  } else {
    shape(certificate)(value, name)
  }
  checkCredentialParts(value)
  return undefined
}

/**
 * Entra's regional host is `<region>.login.microsoft.com`: the region's own text is checked there.
 * Null is MSAL's None, a region left unsaid.
 */
const regionName = either(text, flag)
const region: Rule = (value, name) => (value === null ? undefined : regionName(value, name))

/** The same rule as an authority's: https, or plain http on a loopback host only. */
const discoveryEndpoint: Rule = (value) =>
  typeof value === 'boolean' || (typeof value === 'string' && isSafeUrl(value))
    ? undefined
    : 'must be true, false or an https URL (http on loopback hosts only)'

/** process.env itself is no plain object, and is the usual value. */
const environment: Rule = (value) =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((item) => item === undefined || typeof item === 'string')
    ? undefined
    : 'must be an object of variable names and string values'

/** What every client takes: the token cache, the HTTP stack, logging. */
const sharedRules: Rules<SharedClientOptions> = {
  tokenCache: instanceOf(SerializableTokenCache, 'a SerializableTokenCache'),
  cacheStore: store,
  httpClient: withMethods('request'),
  verify: either(flag, text),
  proxies: checkedApart,
  timeout: checkedApart,
  logger: callback,
  enablePiiLog: flag,
  clock: callback,
}

export const constructorRules: Rules<
  ClientApplicationOptions & { clientCredential: ClientCredential }
> = {
  ...sharedRules,
  clientId: text,
  clientCredential,
  authority: either(text, instanceOf(AuthorityBuilder, 'an AuthorityBuilder')),
  validateAuthority: flag,
  instanceDiscovery: discoveryEndpoint,
  oidcAuthority: text,
  clientClaims: plainObject,
  appName: checkedApart,
  appVersion: checkedApart,
  clientCapabilities: tokenList,
  azureRegion: region,
  env: environment,
  excludeScopes: tokenList,
  httpCache: store,
  popKeyStore: store,
}

type IdField<T> = T extends unknown ? keyof T : never

const identityIds: Rules<Record<IdField<ManagedIdentityId>, string>> = {
  clientId: nameText,
  objectId: nameText,
  resourceId: nameText,
}

/**
 * One user-assigned identity: the request carries a single id, so a second one would be dropped
 * and an object with none would silently ask for the system-assigned identity instead. An id left
 * undefined is absent, as any option left undefined is.
 */
const managedIdentity: Rule = (value, name) => {
  if (!isPlainObject(value)) {
    return 'must be { clientId }, { objectId } or { resourceId } (left out for the system-assigned identity)'
  }
  shape(identityIds)(value, name)
  return Object.values(value).filter((id) => id !== undefined).length === 1
    ? undefined
    : 'must hold exactly one of clientId, objectId and resourceId'
}

/** A minute, far above the default waits: a longer one would hold the token back for nothing. */
const maxRetryDelayMs = 60_000

/**
 * A wait per retry, in milliseconds: NaN or a string would retry at once, and so would a wait past
 * setTimeout's 2^31-1 ms, which Node cuts to 1 ms.
 */
const retryDelays: Rule = (value) =>
  Array.isArray(value) &&
  value.every(
    (delay) =>
      typeof delay === 'number' && Number.isFinite(delay) && delay >= 0 && delay <= maxRetryDelayMs,
  )
    ? undefined
    : `must be a list of milliseconds, from 0 to ${maxRetryDelayMs}`

export const managedIdentityRules: Rules<ManagedIdentityClientOptions> = {
  ...sharedRules,
  managedIdentity,
  env: environment,
  imdsRetryDelaysMs: retryDelays,
}

/** The ids of a user-assigned identity, which a caller may give where an app takes its clientId. */
export const identityIdsElsewhere: Record<string, string> = Object.fromEntries(
  Object.keys(identityIds).map((id) => [id, `managedIdentity: { ${id} }`]),
)

const popScheme = shape<PopAuthScheme>({ httpMethod: text, url: text, nonce: text })

export const clientTokenRules: Rules<ClientTokenOptions> = {
  claimsChallenge: claimsProblem,
  forceRefresh: flag,
  minValidity: seconds,
}

export const silentRules: Rules<SilentOptions> = {
  ...clientTokenRules,
  correlationId: text,
  authScheme: popScheme,
}

export const onBehalfOfRules: Rules<{ claimsChallenge?: string; forceRefresh?: boolean }> = {
  claimsChallenge: claimsProblem,
  forceRefresh: flag,
}

export const passwordRules: Rules<{
  claimsChallenge?: string
  authScheme?: PopAuthScheme
  maxAge?: number
}> = { claimsChallenge: claimsProblem, authScheme: popScheme, maxAge: wholeSeconds }

/** A code in the fragment never reaches a server's redirect URI: MSAL documents these two. */
const responseMode = oneOf('query', 'form_post')

export const authCodeFlowRules: Rules<AuthCodeFlowOptions> = {
  redirectUri: text,
  state: text,
  prompt: text,
  loginHint: text,
  domainHint: text,
  claimsChallenge: claimsProblem,
  maxAge: wholeSeconds,
  responseMode,
}

export const authorizationUrlRules: Rules<AuthorizationUrlOptions> = {
  ...authCodeFlowRules,
  nonce: text,
  responseType: text,
  // A plain URL, as MSAL builds it: an implicit or hybrid response type may want the fragment.
  responseMode: text,
}

export const authorizationCodeRules: Rules<{
  redirectUri?: string
  nonce?: string
  claimsChallenge?: string
}> = { redirectUri: text, nonce: text, claimsChallenge: claimsProblem }

export const flowRedeemRules: Rules<{ apiId?: number }> = { apiId: wholeNumber }

const signal = instanceOf(AbortSignal, 'an AbortSignal')

export const interactiveRules: Rules<InteractiveOptions> = {
  prompt: text,
  loginHint: text,
  domainHint: text,
  maxAge: wholeSeconds,
  claimsChallenge: claimsProblem,
  responseMode,
  port: wholeNumber,
  timeoutMs: positiveNumber,
  signal,
  openBrowser: callback,
  extraScopesToConsent: textList,
}

export const managedIdentityTokenRules: Rules<ManagedIdentityTokenOptions> = {
  forceRefresh: flag,
  claimsChallenge: claimsProblem,
  signal,
}

export const deviceFlowRules: Rules<DeviceFlowOptions> = {
  claimsChallenge: claimsProblem,
  maxAge: wholeSeconds,
  signal,
  timeoutMs: positiveNumber,
  onPending: callback,
}

/** The positional arguments that are objects a caller got from us, or from the redirect. */
export const argumentRules = {
  /** An account from getAccounts; a falsy one is MSAL's no-op. A username or {} would match nothing. */
  account: (value) =>
    !value ||
    (typeof value === 'object' &&
      typeof (value as Record<string, unknown>)['home_account_id'] === 'string')
      ? undefined
      : 'must be an account getAccounts returned',
  flow: (value) =>
    isPlainObject(value) ? undefined : 'must be the object initiateAuthCodeFlow returned',
  response: (value) =>
    isPlainObject(value) ? undefined : 'must be the parameters of the redirect, as an object',
} satisfies Record<string, Rule>
