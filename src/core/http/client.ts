import { lookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import { directTransport, type ExchangeRequest } from './direct-transport.js'
import type * as Tls from 'node:tls'
import type { Agent, buildConnector, Dispatcher, Pool } from 'undici'

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void
import { isLoopbackHost } from './endpoint-url.js'
import { readCaFile } from './ca-file.js'
import { RuntimeFailure, UsageError } from '../kernel/errors.js'
import {
  defaultMaxBodyBytes,
  defaultTimeoutMs,
  type HttpClient,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
} from './types.js'
import { type Logger, silentLogger } from '../kernel/log.js'
import { fileReason } from '../kernel/file-problem.js'
import { checkFile, maxCacheBytes } from '../kernel/safe-file.js'
import { retryAfterSeconds } from './retry-after.js'

/** What undici's EnvHttpProxyAgent reads, in the order it reads them. */
const proxyVariables = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']

/** The longest wait a timer takes (2^31 - 1 ms, about 24.8 days). */
const maxTimeoutMs = 2 ** 31 - 1

function wholeMilliseconds(value: number): number {
  if (typeof value !== 'number' || !(value > 0) || value > maxTimeoutMs) {
    throw new UsageError(
      'invalid_timeout',
      `timeoutMs must be a number of milliseconds above 0 and at most ${maxTimeoutMs}, not ${String(value)}`,
    )
  }
  // A timer takes whole milliseconds; a part of one is waited for in full.
  return Math.ceil(value)
}

/**
 * The proxies the environment names for each scheme, each a URL undici can use: a value without a
 * scheme is an http:// proxy, and only the scheme, credentials, host and port are kept (curl
 * ignores a path too). A value that is still no http(s) URL is refused, naming the variable and
 * not its value, which may hold a password.
 */
function environmentProxies(): { http?: string; https?: string } {
  // eslint-disable-next-line no-restricted-properties -- undici's proxy agent reads the process's own
  const env = process.env
  const pick = (lower: string, upper: string) => {
    const name = env[lower] !== undefined ? lower : upper
    const value = env[name]
    return value === undefined || value === '' ? undefined : proxyUrl(name, value)
  }
  const https = pick('https_proxy', 'HTTPS_PROXY')
  const http = pick('http_proxy', 'HTTP_PROXY')
  return { ...(http ? { http } : {}), ...(https ? { https } : {}) }
}

function proxyUrl(name: string, value: string): string {
  const text = /^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host) {
    throw new UsageError('invalid_proxy', `${name} is not an http:// or https:// proxy URL`)
  }
  const credentials = url.username
    ? `${url.username}${url.password ? `:${url.password}` : ''}@`
    : ''
  return `${url.protocol}//${credentials}${url.host}`
}

type TlsSettings = Pick<Tls.ConnectionOptions, 'secureContext' | 'ca' | 'rejectUnauthorized'>

const tlsErrorCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
])

/**
 * The HTTP client: keep-alive, timeout, proxy, extra CAs, one retry on a connection failure or a
 * 5xx, and a short in-process wait for `Retry-After` on 429/503. Bodies are read up to a bound (the
 * headers are bounded by Node's `maxHeaderSize`), and a credential never leaves over plain http to
 * a host that is not loopback. Requests go through Node's own client (direct-transport.ts) unless a
 * proxy or a pinned certificate is in play: those go through undici.
 */
export function createHttpClient(
  options: HttpOptions = {},
  log: Logger = silentLogger,
): HttpClient & { close(): Promise<void> } {
  // TLS settings and the transports are made on the first request: a run answered from the cache
  // never pays for them.
  let tlsSettings: Promise<TlsSettings> | undefined
  const tlsOf = () =>
    (tlsSettings ??= import('node:tls').then((tlsModule) => {
      const ca = [...(options.ca ?? []), ...(options.caFile ? [readCaFile(options.caFile)] : [])]
      if (ca.length === 0 && !options.insecure) {
        checkNodeExtraCaCerts()
      }
      return {
        ...(ca.length > 0 ? trusting(tlsModule, ca) : {}),
        ...(options.insecure ? { rejectUnauthorized: false } : {}),
      }
    }))
  const given =
    typeof options.proxy === 'string'
      ? { http: options.proxy, https: options.proxy }
      : options.proxy
  // Any proxy variable, even one NO_PROXY may then exempt a host from, leaves the choice to undici.
  const proxied =
    Boolean(given?.http || given?.https) ||
    // eslint-disable-next-line no-restricted-properties -- undici's proxy agent reads the process's own
    proxyVariables.some((name) => (process.env[name] ?? '') !== '')
  // Proxy variables are read here as undici would read them, to be checked and completed first (a
  // `host:port` without a scheme, as curl and pip take it, undici refuses for every request), when
  // the first request is made: a run answered from the cache does not need them.
  let proxies: { http?: string; https?: string } | undefined
  const proxiesOf = () => (proxies ??= given ?? environmentProxies())
  // Each proxy carries its own scheme only, as in requests' mapping: undici's proxy agent would
  // send https through the http proxy when no https one is set, so such a request goes direct.
  const viaProxy = (scheme: 'http' | 'https') => proxied && proxiesOf()[scheme] !== undefined
  let direct: Promise<ReturnType<typeof directTransport>> | undefined
  const directOf = () =>
    (direct ??= tlsOf().then((tls) => directTransport(tls, loopbackAwareLookup)))
  let undici:
    | Promise<{
        /** The dispatcher for a request: the client's, a probe's or a pinned server's. */
        dispatcherFor: (req: HttpRequest) => Dispatcher
        agents: Map<string, Dispatcher>
      }>
    | undefined
  const load = () =>
    (undici ??= Promise.all([import('undici'), tlsOf()]).then(([http, tls]) => {
      const { Agent, EnvHttpProxyAgent, Pool, buildConnector } = http
      const agents = new Map<string, Dispatcher>()
      const proxy = proxiesOf()
      const make = (pin: string | undefined, connectMs: number): Dispatcher => {
        // An abort signal does not end a connection still being made, so the request's limit is
        // also the connect timeout (undici's own is 10 s, longer than a short --timeout or a probe).
        const timeout = { timeout: connectMs }
        if (pin !== undefined) {
          return new Agent({
            connect: pinnedConnector(buildConnector, pin, connectMs),
            keepAliveTimeout: 10_000,
          })
        }
        return new EnvHttpProxyAgent({
          ...(proxy.http ? { httpProxy: proxy.http } : {}),
          ...(proxy.https ? { httpsProxy: proxy.https } : {}),
          connect: { ...tls, lookup: loopbackAwareLookup, ...timeout },
          requestTls: { ...tls, lookup: loopbackAwareLookup, ...timeout },
          // The connection to the proxy itself is made with these, not with `connect`: a proxy
          // that inspects TLS has a certificate of the CA a --ca-file names.
          proxyTls: { ...tls, ...timeout },
          clientFactory: (origin, clientOptions) =>
            new Pool(origin, withoutAddressServername(clientOptions)),
          factory: tunnelGuardedFactory(Pool, connectMs),
          keepAliveTimeout: 10_000,
        })
      }
      return {
        agents,
        dispatcherFor: (req: HttpRequest) => {
          const key = `${req.serverCertificateSha1 ?? ''}/${req.probeMs ?? ''}`
          let agent = agents.get(key)
          if (agent === undefined) {
            agent = make(req.serverCertificateSha1, req.probeMs ?? timeoutMs)
            agents.set(key, agent)
          }
          return agent
        },
      }
    }))
  /** Node's client, or undici's when a proxy or a pinned certificate is in play. */
  const send = async (req: HttpRequest, exchange: Omit<ExchangeRequest, 'url'>) => {
    const url = new URL(req.url)
    if (req.serverCertificateSha1 !== undefined && url.protocol !== 'https:') {
      throw new RuntimeFailure(
        'insecure_endpoint',
        `a pinned server certificate needs https, and ${url.host} is asked over ${url.protocol.slice(0, -1)}`,
      )
    }
    // Plain http to a loopback host always goes direct: a proxy would read what it carries (http
    // carries a credential to loopback hosts only), and the proxy's loopback is not this machine's.
    const goesDirect =
      url.protocol === 'http:'
        ? !viaProxy('http') || isLoopback(url.hostname)
        : url.protocol === 'https:' && !viaProxy('https') && req.serverCertificateSha1 === undefined
    if (goesDirect) {
      return (await directOf()).send({ ...exchange, url })
    }
    const { dispatcherFor } = await load()
    return dispatcherFor(req).request({
      ...exchange,
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
    })
  }
  const timeoutMs = wholeMilliseconds(options.timeoutMs ?? defaultTimeoutMs)
  const maxRetryAfter = options.maxRetryAfter ?? 10

  async function once(req: HttpRequest, attempt: number): Promise<HttpResponse> {
    const started = Date.now()
    const limitMs = req.probeMs ?? timeoutMs
    const body = req.form ? new URLSearchParams(req.form).toString() : undefined
    const headers = {
      ...req.headers,
      ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    }
    // Read before the request is under way: a bad CA file or proxy variable is the caller's
    // mistake, not the server's.
    await tlsOf()
    if (proxied) {
      proxiesOf()
    }
    const signal = req.signal
      ? AbortSignal.any([req.signal, AbortSignal.timeout(limitMs)])
      : AbortSignal.timeout(limitMs)
    try {
      const res = await send(req, { method: req.method, headers, body, signal })
      const text = await readBody(res, req)
      log({
        kind: 'http',
        method: req.method,
        url: req.url,
        status: res.statusCode,
        ms: Date.now() - started,
        attempt,
      })
      return { status: res.statusCode, headers: flatten(res.headers), body: text }
    } catch (error) {
      log({
        kind: 'http',
        method: req.method,
        url: req.url,
        ms: Date.now() - started,
        attempt,
        error: describe(error),
      })
      if (error instanceof RuntimeFailure) {
        throw error
      }
      // Node's client names an ended request an AbortError whatever ended it; the reason says what.
      throw toFailure(signal.aborted ? signal.reason : error, req.url, limitMs)
    }
  }

  return {
    async request(req) {
      refuseCleartextCredential(req)
      if (req.probeMs !== undefined || req.retry === false) {
        return once(req, 1)
      }
      let response: HttpResponse
      try {
        response = await once(req, 1)
      } catch (error) {
        if (!(error instanceof RuntimeFailure) || error.code !== 'connection_failed') {
          throw error
        }
        log({ kind: 'retry', url: req.url, reason: error.message, waitMs: 0 })
        return once(req, 2)
      }
      const wait = retryAfterSeconds(response.headers['retry-after'])
      if ((response.status === 429 || response.status === 503) && wait !== undefined) {
        if (wait > maxRetryAfter) {
          return response
        }
        log({
          kind: 'retry',
          url: req.url,
          reason: `status ${response.status}`,
          waitMs: wait * 1000,
        })
        await new Promise((resolve) => setTimeout(resolve, wait * 1000))
        return once(req, 2)
      }
      if (response.status >= 500) {
        log({ kind: 'retry', url: req.url, reason: `status ${response.status}`, waitMs: 0 })
        return once(req, 2)
      }
      return response
    },
    // The next request, if any, opens new connections, whichever way it goes.
    close: async () => {
      const [node, proxying] = [direct, undici]
      direct = undefined
      undici = undefined
      if (node) {
        ;(await node).close()
      }
      if (proxying) {
        const { agents } = await proxying
        await Promise.all([...agents.values()].map((agent) => agent.close()))
      }
    },
  }
}

/**
 * Node trusts NODE_EXTRA_CA_CERTS beside its roots from start-up on: a file every user can write
 * (or could rename another over) would let any of them add a CA, so no request is made with it,
 * as msal-ts refuses such a CA file of its own. A missing one Node ignores, and so does this.
 */
function checkNodeExtraCaCerts(): void {
  // eslint-disable-next-line no-restricted-properties -- Node read it from the process's own
  const path = process.env['NODE_EXTRA_CA_CERTS']
  if (path) {
    try {
      checkFile(path, { maxBytes: maxCacheBytes, trusted: true })
    } catch (error) {
      throw new UsageError(
        'ca_file',
        `cannot use the CA file ${path} (from NODE_EXTRA_CA_CERTS): ${fileReason(error)}`,
      )
    }
  }
}

/**
 * Node's own roots and these CAs. Handing `ca: [...rootCertificates, ...ca]` to TLS parsed the
 * whole root store again in every process (tens of ms); a default context already holds the roots,
 * so only the extra certificates are parsed into it. A Node without that native method gets the
 * full list instead. Trying a context of these CAs alone first would not spare the roots' parse:
 * Node 20 builds its root store the first time any CA is added to any context (the addition
 * compares the context's store with it), and Node 22 and 24 pay the same either way.
 */
function trusting(
  tls: typeof Tls,
  ca: readonly string[],
): { secureContext: Tls.SecureContext } | { ca: string[] } {
  // Read only where used: tls.rootCertificates makes a string of every root (0.8 ms, 230 KB).
  const listed = () => ({ ca: [...tls.rootCertificates, ...ca] })
  // Since Node 22.15 the default context also holds NODE_EXTRA_CA_CERTS, which msal-ts's own CA
  // setting replaces: then the roots are listed by hand, as Node 20 does.
  const extra = (tls as { getCACertificates?: (type: 'extra') => string[] }).getCACertificates
  if ((extra?.('extra') ?? []).length > 0) {
    return listed()
  }
  const secureContext = tls.createSecureContext()
  const store = (secureContext as { context?: { addCACert?: (pem: string) => void } }).context
  const add = store?.addCACert?.bind(store)
  if (add === undefined) {
    return listed()
  }
  ca.forEach((pem) => add(pem))
  return { secureContext }
}

/**
 * A credential (any form body: secrets, assertions, codes, refresh tokens, passwords) seen on the
 * wire by anyone between us and a remote host would be stolen; this is checked before the request
 * is even prepared, whoever chose the URL (a discovery document, an environment variable).
 */
function refuseCleartextCredential(req: HttpRequest): void {
  if (req.form === undefined && req.carriesCredential !== true) {
    return
  }
  let url: URL | undefined
  try {
    url = new URL(req.url)
  } catch {
    url = undefined
  }
  if (url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopback(url.hostname))) {
    return
  }
  const where =
    url === undefined ? 'to a malformed URL' : `over ${url.protocol.slice(0, -1)} to ${url.host}`
  throw new RuntimeFailure(
    'insecure_endpoint',
    `refusing to send a credential ${where}: only https, or http to a loopback host, may carry one`,
  )
}

/** `*.localhost` too, as `loopbackAwareLookup` resolves those names to 127.0.0.1. */
function isLoopback(hostname: string): boolean {
  return isLoopbackHost(hostname) || /\.localhost\.?$/i.test(hostname)
}

/** The body as text, given up as soon as it passes the request's bound, however it is framed. */
async function readBody(
  res: { headers: Record<string, string | string[] | undefined>; body: AsyncIterable<Buffer> },
  req: HttpRequest,
): Promise<string> {
  const limit = req.maxBodyBytes ?? defaultMaxBodyBytes
  const tooLarge = () =>
    new RuntimeFailure(
      'response_too_large',
      `answer from ${safeHost(req.url)} is larger than ${byteSize(limit)}`,
    )
  // A declared length past the bound fails at the first chunk, before the rest is waited for.
  const declared = Number(res.headers['content-length'])
  const chunks: Buffer[] = []
  let size = 0
  // Leaving the loop early (the throw) destroys the body, which ends the request.
  for await (const chunk of res.body) {
    size += chunk.length
    if (size > limit || declared > limit) {
      throw tooLarge()
    }
    chunks.push(chunk)
  }
  // TextDecoder drops a leading BOM, as undici's own `text()` does.
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function byteSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) {
    return `${bytes / (1024 * 1024)} MiB`
  }
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`
}

/** Given by `tunnelGuardedFactory`; `toFailure` names it. */
const proxyClosedConnection = 'ERR_PROXY_CLOSED_CONNECTION'

/**
 * undici 7 (nodejs/undici#3897) takes a proxy that drops the connection before answering CONNECT
 * for a live connection lost while idle: it keeps the request queued and reconnects at once, in a
 * tight loop without end, and the request's abort signal is only looked at once a connection is
 * made. The tunnel here fails the request instead, and gets the request's limit as its deadline
 * (the signal is handed on to the CONNECT request, which honours it).
 */
function tunnelGuardedFactory(
  PoolClass: typeof Pool,
  connectMs: number,
): NonNullable<Agent.Options['factory']> {
  return (origin, opts) => {
    const connect = (opts as Pool.Options).connect
    if (typeof connect !== 'function') {
      // A direct connection (no proxy for this origin): undici's connector already fails it.
      return new PoolClass(origin, opts)
    }
    const guarded: buildConnector.connector = (connectOpts, callback) =>
      connect(
        { ...connectOpts, signal: AbortSignal.timeout(connectMs) } as typeof connectOpts,
        (error, socket) => {
          if (error !== null) {
            callback(closedTunnel(error), null)
          } else {
            callback(null, socket)
          }
        },
      )
    return new PoolClass(origin, { ...opts, connect: guarded })
  }
}

/**
 * The options of the client that reaches a proxy, its connector sending no TLS server name when the
 * proxy is an IP address: undici would send the address, and Node warns on stderr of every run
 * (DEP0123; RFC 6066 names hosts only), or throws under --throw-deprecation.
 */
function withoutAddressServername(options: object): Pool.Options {
  const { connect } = options as { connect?: unknown }
  if (typeof connect !== 'function') {
    return options
  }
  const connector = connect as buildConnector.connector
  return {
    ...options,
    connect: (connectOptions, callback) =>
      connector(
        isIP(connectOptions.servername ?? '') === 0
          ? connectOptions
          : { ...connectOptions, servername: undefined },
        callback,
      ),
  }
}

/** undici's socket error, which it would retry forever, as one it fails the request with. */
function closedTunnel(error: Error): Error {
  if ((error as { code?: unknown }).code !== 'UND_ERR_SOCKET') {
    return error
  }
  const socket = (error as { socket?: { remoteAddress?: string; remotePort?: number } }).socket
  return Object.assign(new Error('the proxy closed the connection', { cause: error }), {
    code: proxyClosedConnection,
    proxy:
      socket?.remoteAddress !== undefined && socket.remotePort !== undefined
        ? `${socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`
        : undefined,
  })
}

/** Thrown by the pinned connector; `toFailure` names it. */
const thumbprintMismatch = 'ERR_SERVER_CERT_THUMBPRINT'

/**
 * Accepts the HTTPS server whose certificate has this SHA-1 thumbprint, whoever issued it (Service
 * Fabric's token service has a self-signed one), and no other: CA checks are off, the pin replaces
 * them. No TLS session is reused, so every connection shows its certificate.
 */
function pinnedConnector(
  build: typeof buildConnector,
  sha1: string,
  connectMs: number,
): buildConnector.connector {
  const wanted = sha1.replace(/[^0-9a-f]/gi, '').toLowerCase()
  const connect = build({
    rejectUnauthorized: false,
    maxCachedSessions: 0,
    lookup: loopbackAwareLookup,
    timeout: connectMs,
  })
  return (options, callback) => {
    connect(options, (error, socket) => {
      if (error !== null) {
        callback(error, null)
        return
      }
      if (options.protocol === 'https:') {
        const seen = (socket as Tls.TLSSocket).getPeerCertificate().fingerprint ?? ''
        if (seen.replace(/:/g, '').toLowerCase() !== wanted) {
          socket.destroy()
          callback(
            Object.assign(new Error('the server certificate has another thumbprint'), {
              code: thumbprintMismatch,
            }),
            null,
          )
          return
        }
      }
      callback(null, socket)
    })
  }
}

/**
 * RFC 6761: names under `localhost.` are loopback. Browsers resolve them so; glibc does not, and
 * local identity providers (regional hosts such as `westus2.localhost`) need it.
 */
function loopbackAwareLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  if (!/\.localhost\.?$/i.test(hostname)) {
    lookup(hostname, options, callback)
    return
  }
  if (options.all) {
    callback(null, [{ address: '127.0.0.1', family: 4 }])
  } else {
    callback(null, '127.0.0.1', 4)
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }
  }
  return flat
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT') {
      return code
    }
    current = current.cause
  }
  return (error as { code?: string } | undefined)?.code
}

function describe(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error))
}

function toFailure(error: unknown, url: string, timeoutMs: number): RuntimeFailure {
  const host = safeHost(url)
  const code = errorCode(error)
  const name = error instanceof Error ? error.name : ''
  if (
    name === 'TimeoutError' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new RuntimeFailure('timeout', `${host} did not answer within ${timeoutMs / 1000} s`, {
      cause: error,
    })
  }
  // Another CA would not help with these two, so the advice differs.
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new RuntimeFailure(
      'tls_error',
      `the TLS certificate of ${host} ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (${code}); check the server's certificate and this machine's clock`,
      { cause: error },
    )
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new RuntimeFailure(
      'tls_error',
      `the TLS certificate of ${host} is not for that host name (${code}); check the authority's host, or the proxy`,
      { cause: error },
    )
  }
  if (code === thumbprintMismatch) {
    return new RuntimeFailure(
      'tls_error',
      `the TLS certificate of ${host} does not have the pinned SHA-1 thumbprint`,
      { cause: error },
    )
  }
  if (code !== undefined && tlsErrorCodes.has(code)) {
    return new RuntimeFailure(
      'tls_error',
      `the TLS certificate of ${host} is not trusted (${code})`,
      { cause: error, hint: 'trust_certificate' },
    )
  }
  if (code === proxyClosedConnection) {
    const proxy = (error as { proxy?: string }).proxy
    return new RuntimeFailure(
      'connection_failed',
      `cannot reach ${host} through ${proxy === undefined ? 'the proxy' : `the proxy ${proxy}`}: the proxy closed the connection`,
      { cause: error },
    )
  }
  const refused = proxyRefusal(error)
  if (refused !== undefined) {
    return new RuntimeFailure(
      'connection_failed',
      `cannot reach ${host}: the proxy answered ${refused} to its CONNECT request`,
      { cause: error },
    )
  }
  if (code === 'HPE_HEADER_OVERFLOW' || code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new RuntimeFailure(
      'connection_failed',
      `cannot read the answer of ${host}: its headers are larger than Node's limit (${code})`,
      { cause: error },
    )
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new RuntimeFailure('connection_failed', `cannot resolve ${host} (${code})`, {
      cause: error,
    })
  }
  const hop = otherEndpoint(error, url)
  return new RuntimeFailure(
    'connection_failed',
    hop === undefined
      ? `cannot reach ${host}: ${describe(error)}`
      : `cannot reach ${hop} on the way to ${host} (a proxy?): ${describe(error)}`,
    { cause: error },
  )
}

/** The status a proxy refused a tunnel with: undici says so only in its message. */
function proxyRefusal(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : ''
  return /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/.exec(message)?.[1]
}

/**
 * The endpoint a connection error names when it is not the server asked for (another port: a
 * proxy in between), so the message sends the reader to what actually failed.
 */
function otherEndpoint(error: unknown, url: string): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const { address, port } = current as { address?: unknown; port?: unknown }
    if (typeof address === 'string' && typeof port === 'number') {
      const target = URL.canParse(url) ? new URL(url) : undefined
      const targetPort = target?.port || (target?.protocol === 'http:' ? '80' : '443')
      return String(port) === targetPort
        ? undefined
        : `${address.includes(':') ? `[${address}]` : address}:${port}`
    }
    current = current.cause
  }
  return undefined
}

function safeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return 'the server'
  }
}
