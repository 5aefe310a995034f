/**
 * The redirect listener of the authorization code flow (RFC 8252 §7.3, loopback interface redirection).
 *
 * It binds 127.0.0.1 only, waits for the one redirect that echoes the request's `state`, answers the
 * browser with a small page and shuts down. Everything else that reaches the port (favicon requests,
 * forged or stale redirects, probes) is answered and ignored, so it cannot end the sign-in.
 * Nothing here logs: codes and states must never reach a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { CancelledError, RuntimeFailure, UsageError } from '../kernel/errors.js'
import {
  completedText,
  escapeHtml,
  failurePage,
  page,
  sendNotFound,
  sendPage,
  stateMismatchText,
} from './pages.js'

/** The parameters of the redirect: code, state, error, error_description, client_info, session_state, ... */
export interface AuthorizationResponse {
  [param: string]: string
}

export interface LoopbackOptions {
  /** Fixed port; default 0 (the OS picks a free one). */
  port?: number
  /** The state the authorization request carried; every redirect must echo it. */
  expectedState: string
  /** Rejects with CancelledError('interrupted') when aborted (Ctrl-C) and with RuntimeFailure('timeout', ...) when `timeoutMs` passes. */
  signal?: AbortSignal
  /** Default 300_000. */
  timeoutMs?: number
}

export interface LoopbackListener {
  /** `http://localhost:<port>` — what MSAL registers as the redirect URI (host hard-coded `localhost`, no trailing slash). */
  readonly redirectUri: string
  readonly port: number
  /** Settles with the first valid response (query GET or form_post POST). */
  readonly response: Promise<AuthorizationResponse>
  close(): Promise<void>
}

const bindHost = '127.0.0.1'
const defaultTimeoutMs = 300_000
const maxBodyBytes = 64 * 1024
/** setTimeout cannot wait longer; a bigger timeout is served by this one. */
const maxTimerMs = 2_147_483_647
/** How long the final page may take to reach the browser before its connection is cut. */
const flushGraceMs = 2_000

/** Starts listening on 127.0.0.1 and returns once the port is bound. */
export async function startLoopback(options: LoopbackOptions): Promise<LoopbackListener> {
  const requestedPort = options.port ?? 0
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new UsageError(
      'invalid_port',
      `the redirect port must be an integer from 0 to 65535, not ${String(options.port)}`,
    )
  }
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new UsageError('invalid_timeout', 'the sign-in timeout must be a positive number of ms')
  }
  if (typeof options.expectedState !== 'string' || options.expectedState === '') {
    throw new UsageError('invalid_state', 'the authorization request must carry a non-empty state')
  }
  const { signal } = options
  if (signal?.aborted) {
    throw new CancelledError('interrupted')
  }

  const expectedStateDigest = digest(options.expectedState)
  const sockets = new Set<Socket>()

  /** Set once the outcome is known: no further request counts. */
  let decided = false
  let stopped = false
  let flushTimer: NodeJS.Timeout | undefined
  let waitTimer: NodeJS.Timeout | undefined = undefined

  let resolveResponse!: (value: AuthorizationResponse) => void
  let rejectResponse!: (reason: unknown) => void
  const response = new Promise<AuthorizationResponse>((resolve, reject) => {
    resolveResponse = resolve
    rejectResponse = reject
  })
  // A caller that stops listening early (close() without awaiting `response`) must not crash the process.
  response.catch(() => undefined)

  const server = createServer((req, res) => onRequest(req, res))
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()))

  /** Refuses new connections at once; the open ones live on until `dropConnections`. */
  function stopAccepting(): void {
    if (stopped) {
      return
    }
    stopped = true
    server.close()
  }

  function dropConnections(): void {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer)
    }
    server.closeAllConnections()
    for (const socket of sockets) {
      socket.destroy()
    }
  }

  function decide(): void {
    decided = true
    if (waitTimer !== undefined) {
      clearTimeout(waitTimer)
    }
    signal?.removeEventListener('abort', onAbort)
  }

  /** Ends the wait with an error: the server goes down first, then `response` rejects. */
  function fail(error: Error): void {
    if (decided) {
      return
    }
    decide()
    stopAccepting()
    dropConnections()
    void closed.then(() => rejectResponse(error))
  }

  /** Answers the browser, then shuts everything down and resolves `response` once the server is gone. */
  function complete(res: ServerResponse, params: AuthorizationResponse, html: string): void {
    decide()
    stopAccepting()
    res.once('close', dropConnections)
    flushTimer = setTimeout(dropConnections, flushGraceMs)
    flushTimer.unref()
    sendPage(res, 200, html, { Connection: 'close' })
    void closed.then(() => resolveResponse(params))
  }

  function onAbort(): void {
    fail(new CancelledError('interrupted'))
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => undefined)
    if (decided) {
      // The flow is over: later requests are refused, not answered.
      req.socket.destroy()
      return
    }
    const method = req.method ?? ''
    if (method === 'GET' || method === 'HEAD') {
      let query: URLSearchParams
      try {
        query = new URL(req.url ?? '/', 'http://localhost').searchParams
      } catch {
        sendPage(res, 400, page('Bad request', '<p>This request could not be read.</p>'))
        return
      }
      if (method === 'GET' && isRedirect(query)) {
        onRedirect(res, query)
      } else {
        sendNotFound(res)
      }
      return
    }
    if (method === 'POST') {
      readForm(req, res)
      return
    }
    sendPage(
      res,
      405,
      page('Method not allowed', '<p>This address only takes the sign-in redirect.</p>'),
      {
        Allow: 'GET, HEAD, POST',
      },
    )
  }

  /** response_mode=form_post: an application/x-www-form-urlencoded body of at most 64 KiB. */
  function readForm(req: IncomingMessage, res: ServerResponse): void {
    const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase()
    if (mediaType !== 'application/x-www-form-urlencoded') {
      req.resume()
      sendPage(res, 415, page('Unsupported request', '<p>Expected a form post.</p>'))
      return
    }
    const tooLarge = () => {
      sendPage(res, 413, page('Request too large', '<p>The form post is too large.</p>'), {
        Connection: 'close',
      })
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      req.resume()
      tooLarge()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let overflowed = false
    req.on('data', (chunk: Buffer) => {
      if (overflowed) {
        return
      }
      size += chunk.length
      if (size > maxBodyBytes) {
        overflowed = true
        chunks.length = 0
        tooLarge()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (overflowed) {
        return
      }
      if (decided) {
        req.socket.destroy()
        return
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      if (isRedirect(form)) {
        onRedirect(res, form)
      } else {
        sendNotFound(res)
      }
    })
  }

  function onRedirect(res: ServerResponse, params: URLSearchParams): void {
    const collected = collect(params)
    if (collected === undefined) {
      sendPage(
        res,
        400,
        page('Bad request', '<p>The response repeats a parameter; it was ignored.</p>', 'bad'),
      )
      return
    }
    // The state comes first: a response that is not ours must not end (or even inform) the flow.
    if (!stateMatches(collected.state)) {
      sendPage(res, 400, page('State mismatch', `<p>${escapeHtml(stateMismatchText)}</p>`, 'bad'))
      return
    }
    if (nonEmpty(collected.error)) {
      complete(res, collected, failurePage(collected))
      return
    }
    if (nonEmpty(collected.code)) {
      complete(res, collected, page('Authentication completed', `<p>${completedText}</p>`, 'ok'))
      return
    }
    sendPage(
      res,
      400,
      page('Bad request', '<p>The response carries neither a code nor an error.</p>', 'bad'),
    )
  }

  function stateMatches(received: string | undefined): boolean {
    if (received === undefined) {
      return false
    }
    return timingSafeEqual(digest(received), expectedStateDigest)
  }

  await new Promise<void>((resolve, reject) => {
    const onListenError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      reject(listenError(error, requestedPort))
    }
    const onListening = () => {
      server.off('error', onListenError)
      resolve()
    }
    server.once('error', onListenError)
    server.once('listening', onListening)
    server.listen({ host: bindHost, port: requestedPort, exclusive: true })
  })

  const { port } = server.address() as AddressInfo
  server.on('error', (error: Error) => {
    const message = `the redirect listener failed: ${error.message}`
    fail(new RuntimeFailure('loopback_failed', message, { cause: error }))
  })

  if (signal?.aborted) {
    fail(new CancelledError('interrupted'))
    await closed
    throw new CancelledError('interrupted')
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  waitTimer = setTimeout(
    () => fail(new RuntimeFailure('timeout', `no sign-in response within ${seconds(timeoutMs)} s`)),
    Math.min(timeoutMs, maxTimerMs),
  )

  return {
    redirectUri: `http://localhost:${port}`,
    port,
    response,
    close(): Promise<void> {
      if (!decided) {
        fail(new CancelledError('interrupted'))
      } else {
        stopAccepting()
        dropConnections()
      }
      return closed
    },
  }
}

function listenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new UsageError('port_in_use', `cannot listen on ${bindHost}:${port}: it is in use`, {
      cause: error,
      hint: 'redirect_port',
    })
  }
  if (error.code === 'EACCES') {
    return new UsageError(
      'port_denied',
      `cannot listen on ${bindHost}:${port}: permission denied`,
      { cause: error, hint: 'redirect_port' },
    )
  }
  return new RuntimeFailure(
    'listen_failed',
    `cannot listen on ${bindHost}:${port}: ${error.message}`,
    {
      cause: error,
    },
  )
}

function isRedirect(params: URLSearchParams): boolean {
  return params.has('state') || params.has('code') || params.has('error')
}

/** The parameters as a plain object, or undefined when one is repeated (RFC 6749 §3.1 forbids it). */
function collect(params: URLSearchParams): AuthorizationResponse | undefined {
  const entries: [string, string][] = []
  const seen = new Set<string>()
  for (const [name, value] of params) {
    if (seen.has(name)) {
      return undefined
    }
    seen.add(name)
    entries.push([name, value])
  }
  // fromEntries defines own properties, so a `__proto__` parameter stays a harmless string.
  return Object.fromEntries<string>(entries)
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== ''
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)))
}
