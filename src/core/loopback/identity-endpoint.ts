/**
 * A local managed-identity endpoint in the shape of Azure App Service's (api-version 2019-08-01):
 * `GET <endpoint>?resource=<uri>&api-version=2019-08-01` with the header `X-IDENTITY-HEADER:
 * <secret>`, answered with `{access_token, expires_on, resource, token_type, client_id}`, which
 * every Azure SDK's ManagedIdentityCredential reads. Where the tokens come from is the caller's
 * `acquire`; this module decides who may ask, for what, and answers from memory while it can.
 *
 * It binds 127.0.0.1 only and checks the Host header, so a web page cannot reach it through a
 * name that resolves to loopback (DNS rebinding). The secret is compared in constant time. No
 * answer other than a token carries a token, and nothing here writes one to a log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { controlCharacter } from '../kernel/control-characters.js'
import { MsalTsError, RuntimeFailure, UsageError } from '../kernel/errors.js'

export const identityApiVersion = '2019-08-01'
export const identityPath = '/msi/token'

/** A token as `acquire` gets it: the result fields of the library that the answer needs. */
export interface EndpointToken {
  access_token: string
  token_type: string
  /** Seconds since the epoch. */
  expires_on: number
}

/** What one request came to, for the caller's log line: never the token or the secret. */
export interface EndpointRequest {
  method: string
  /** The path without its query, made of whatever the client sent. */
  path: string
  status: number
  resource?: string
  /** The failure behind an error answer from `acquire`. */
  error?: unknown
}

export interface IdentityEndpointOptions {
  /** Default 0: the OS picks a free port. */
  port?: number
  /** Resources served; empty or absent: any. Compared without trailing slashes, ignoring case. */
  allowResources?: readonly string[]
  /** The client id the answers name. */
  clientId: (token: EndpointToken) => string
  acquire: (resource: string) => Promise<EndpointToken>
  /** Renders a failure of `acquire` as the answer's error_description. */
  describe?: (error: MsalTsError) => string
  onRequest?: (request: EndpointRequest) => void
  /** Seconds a token must have left to be answered from memory. Default 300, as the SDKs refresh. */
  minValiditySeconds?: number
  /** Seconds since the epoch; default the system clock. */
  now?: () => number
}

export interface IdentityEndpoint {
  /** `http://127.0.0.1:<port>/msi/token`: the value of IDENTITY_ENDPOINT. */
  readonly endpoint: string
  /** The value of IDENTITY_HEADER: new on every start. */
  readonly secret: string
  readonly port: number
  close(): Promise<void>
}

const bindHost = '127.0.0.1'
/** Request line and headers together; an SDK's request needs a fraction of it. */
const maxHeaderBytes = 8 * 1024
const headersTimeoutMs = 10_000
const resourceMaxLength = 2048

interface Failure {
  status: number
  error: string
  description: string
}

export async function startIdentityEndpoint(
  options: IdentityEndpointOptions,
): Promise<IdentityEndpoint> {
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError('invalid_port', `the port must be an integer from 0 to 65535, not ${port}`)
  }
  const secret = randomBytes(32).toString('base64url')
  const secretDigest = digest(secret)
  const allowed = new Set((options.allowResources ?? []).map(resourceKey))
  const memo = new TokenMemo(options)
  let boundPort = port

  const server = createServer(
    { maxHeaderSize: maxHeaderBytes, headersTimeout: headersTimeoutMs, requestTimeout: 60_000 },
    (req, res) => void answer(req, res),
  )

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => undefined)
    const url = URL.canParse(req.url ?? '/', 'http://localhost')
      ? new URL(req.url ?? '/', 'http://localhost')
      : undefined
    if (url === undefined) {
      // An absolute-form target the HTTP parser let through but no URL parser takes.
      sendError(res, badRequest('the request target is not a URL'))
      options.onRequest?.({ method: req.method ?? '', path: '', status: 400 })
      return
    }
    const report = (status: number, extra: Partial<EndpointRequest> = {}) =>
      options.onRequest?.({ method: req.method ?? '', path: url.pathname, status, ...extra })
    const refusal = refuse(req, url, { secretDigest, port: boundPort, allowed })
    if (refusal !== undefined) {
      sendError(res, refusal)
      report(refusal.status, resourceOf(url))
      return
    }
    const resource = url.searchParams.get('resource') ?? ''
    try {
      const token = await memo.get(resource)
      sendJson(res, 200, {
        access_token: token.access_token,
        expires_on: String(Math.floor(token.expires_on)),
        resource,
        token_type: token.token_type,
        client_id: options.clientId(token),
      })
      report(200, { resource })
    } catch (error) {
      const failure = failureOf(error, options.describe)
      sendError(res, failure)
      report(failure.status, { resource, error })
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new RuntimeFailure('port_unavailable', `cannot listen on ${bindHost}:${port}`, {
              cause: error,
            })
          : error,
      ),
    )
    server.listen(port, bindHost, () => resolve())
  })
  boundPort = (server.address() as AddressInfo).port
  return {
    endpoint: `http://${bindHost}:${boundPort}${identityPath}`,
    secret,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The resource a refused request named, when it named one cleanly, for the log line. */
function resourceOf(url: URL): Partial<EndpointRequest> {
  const resource = url.searchParams.get('resource')
  return resource && !controlCharacter.test(resource) ? { resource } : {}
}

/** Why a request is not served, checked from the cheapest to the most telling. */
function refuse(
  req: IncomingMessage,
  url: URL,
  context: { secretDigest: Buffer; port: number; allowed: ReadonlySet<string> },
): Failure | undefined {
  if (req.method !== 'GET') {
    return { status: 405, error: 'method_not_allowed', description: 'only GET is served' }
  }
  if (url.pathname !== identityPath) {
    return { status: 404, error: 'not_found', description: `the endpoint is ${identityPath}` }
  }
  if (!hostIsLoopback(req.headers.host, context.port)) {
    return {
      status: 400,
      error: 'invalid_host',
      description: 'the Host header must be 127.0.0.1 or localhost',
    }
  }
  if ((req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding']) {
    return { status: 400, error: 'invalid_request', description: 'a GET carries no body' }
  }
  const given = req.headers['x-identity-header']
  if (typeof given !== 'string' || !timingSafeEqual(digest(given), context.secretDigest)) {
    return {
      status: 401,
      error: 'unauthorized',
      description: 'the X-IDENTITY-HEADER header is missing or wrong',
    }
  }
  return refuseQuery(url.searchParams, context.allowed)
}

function refuseQuery(query: URLSearchParams, allowed: ReadonlySet<string>): Failure | undefined {
  const versions = query.getAll('api-version')
  if (versions.length !== 1 || versions[0] !== identityApiVersion) {
    return badRequest(`api-version must be ${identityApiVersion}`)
  }
  const resources = query.getAll('resource')
  // Not trimmed: the resource checked is the one acquired and echoed back.
  const resource = resources[0]
  if (resources.length !== 1 || !resource) {
    return badRequest('give one resource')
  }
  if (
    resource.length > resourceMaxLength ||
    controlCharacter.test(resource) ||
    /\s/.test(resource)
  ) {
    return badRequest('the resource is not a resource URI or id')
  }
  if (allowed.size > 0 && !allowed.has(resourceKey(resource))) {
    return {
      status: 403,
      error: 'resource_not_allowed',
      description: 'this endpoint does not serve tokens for that resource',
    }
  }
  return undefined
}

function badRequest(description: string): Failure {
  return { status: 400, error: 'invalid_request', description }
}

/** A browser led to a rebinding name sends that name as Host; an SDK sends what it was given. */
function hostIsLoopback(host: string | undefined, port: number): boolean {
  const match = /^(127\.0\.0\.1|localhost)(?::(\d+))?$/i.exec(host ?? '')
  if (!match) {
    return false
  }
  return match[2] === undefined ? port === 80 : Number(match[2]) === port
}

function resourceKey(resource: string): string {
  return resource.trim().replace(/\/+$/, '').toLowerCase()
}

/** Equal-length digests, so the comparison takes as long whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * What a failure to get a token answers: the provider refused, or a person must sign in (400,
 * as App Service passes the provider's refusals on); the provider could not be reached or
 * answered nonsense (502); anything else is ours (500, without details).
 */
function failureOf(error: unknown, describe: (error: MsalTsError) => string = (e) => e.message) {
  if (!(error instanceof MsalTsError)) {
    return { status: 500, error: 'internal_error', description: 'the token could not be had' }
  }
  const status = error.kind === 'runtime' ? 502 : error.kind === 'cancelled' ? 503 : 400
  return { status, error: error.code, description: describe(error) }
}

function sendError(res: ServerResponse, failure: Failure): void {
  const headers: Record<string, string> = failure.status === 405 ? { Allow: 'GET' } : {}
  sendJson(
    res,
    failure.status,
    { error: failure.error, error_description: failure.description },
    headers,
  )
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/**
 * Tokens by resource, answered from memory while they have `minValiditySeconds` left; the
 * requests for one resource that arrive while its token is being fetched share that one fetch.
 */
class TokenMemo {
  private readonly tokens = new Map<string, EndpointToken>()
  private readonly pending = new Map<string, Promise<EndpointToken>>()
  private readonly acquire: (resource: string) => Promise<EndpointToken>
  private readonly minValidity: number
  private readonly now: () => number

  constructor(options: IdentityEndpointOptions) {
    this.acquire = options.acquire
    this.minValidity = options.minValiditySeconds ?? 300
    this.now = options.now ?? (() => Date.now() / 1000)
  }

  get(resource: string): Promise<EndpointToken> {
    const key = resourceKey(resource)
    const held = this.tokens.get(key)
    if (held !== undefined && held.expires_on - this.now() > this.minValidity) {
      return Promise.resolve(held)
    }
    const inFlight = this.pending.get(key)
    if (inFlight !== undefined) {
      return inFlight
    }
    const fetched = this.acquire(resource)
      .then((token) => {
        this.tokens.set(key, token)
        return token
      })
      .finally(() => this.pending.delete(key))
    this.pending.set(key, fetched)
    return fetched
  }
}
