import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { request, type IncomingHttpHeaders } from 'node:http'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { freePort } from '../fixtures/loopback-server.js'
import { test } from 'node:test'
import { CancelledError, RuntimeFailure, UsageError } from '../../src/core/kernel/errors.js'
import { startLoopback, type LoopbackListener } from '../../src/core/loopback/listener.js'

const state = 'c3RhdGUtZm9yLXRoZS10ZXN0'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One request on its own connection (no pooling, so nothing lingers between tests). */
function send(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

function postForm(url: string, form: Record<string, string>): Promise<Reply> {
  return send(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  })
}

function query(params: Record<string, string>): string {
  return `?${new URLSearchParams(params).toString()}`
}

/** Resolves with the connection error, or fails the test when the connection succeeds. */
function connectionError(host: string, port: number): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    socket.setTimeout(2_000, () => {
      socket.destroy()
      reject(new Error(`connecting to ${host}:${port} neither succeeded nor failed`))
    })
    socket.once('connect', () => {
      socket.destroy()
      reject(new Error(`${host}:${port} accepted a connection`))
    })
    socket.once('error', (error) => resolve(error))
  })
}

/** Settles to 'pending' when `promise` is still open after the pending I/O callbacks ran. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending')
  const winner = await Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => setTimeout(() => resolve(marker), 20)),
  ])
  return winner === marker
}

async function open(t: { after(fn: () => Promise<void>): void }, timeoutMs = 10_000) {
  const listener = await startLoopback({ expectedState: state, timeoutMs })
  t.after(() => listener.close())
  return listener
}

function localUrl(listener: LoopbackListener, path = '/'): string {
  return `http://127.0.0.1:${listener.port}${path}`
}

function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
}

test('a GET redirect with code and state resolves with every parameter, then the port closes', async (t) => {
  const listener = await open(t)
  assert.equal(listener.redirectUri, `http://localhost:${listener.port}`)
  assert.ok(listener.port > 0)

  const params = {
    code: '0.AXkA-the-code',
    state,
    client_info: 'eyJ1aWQiOiIxIiwidXRpZCI6IjIifQ',
    session_state: 'abc',
  }
  const reply = await send(localUrl(listener) + query(params))
  assert.equal(reply.status, 200)
  assert.match(reply.body, /Authentication completed\. You can close this window now\./)
  assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8')
  assert.match(String(reply.headers['content-security-policy']), /^default-src 'none'/)
  assert.equal(reply.headers['x-content-type-options'], 'nosniff')
  assert.equal(reply.headers['cache-control'], 'no-store')
  assert.equal(reply.headers['referrer-policy'], 'no-referrer')
  assert.ok(!reply.body.includes(params.code), 'the page never shows the code')

  assert.deepEqual(await listener.response, params)
  const error = await connectionError('127.0.0.1', listener.port)
  assert.equal(error.code, 'ECONNREFUSED')
  await listener.close()
  await listener.close()
})

test('a form_post POST works the same', async (t) => {
  const listener = await open(t)
  const params = { code: 'posted-code', state, id_token: 'eyJhbGciOi.x.y' }
  const reply = await postForm(localUrl(listener), params)
  assert.equal(reply.status, 200)
  assert.match(reply.body, /Authentication completed/)
  assert.deepEqual(await listener.response, params)
  assert.equal((await connectionError('127.0.0.1', listener.port)).code, 'ECONNREFUSED')
})

test('a wrong or missing state is answered 400 and the listener keeps waiting', async (t) => {
  const listener = await open(t)

  const forged = await send(localUrl(listener) + query({ code: 'forged', state: 'not-ours' }))
  assert.equal(forged.status, 400)
  assert.match(
    forged.body,
    /State mismatch: this response does not belong to the sign-in msal-ts started\./,
  )
  assert.equal(forged.headers['content-type'], 'text/html; charset=utf-8')

  const stateless = await send(localUrl(listener) + query({ code: 'forged' }))
  assert.equal(stateless.status, 400)
  assert.match(stateless.body, /State mismatch/)

  const forgedPost = await postForm(localUrl(listener), { error: 'access_denied', state: 'x' })
  assert.equal(forgedPost.status, 400)

  const prefix = await send(
    localUrl(listener) + query({ code: 'forged', state: state.slice(0, -1) }),
  )
  assert.equal(prefix.status, 400)

  const repeated = await send(`${localUrl(listener)}?code=a&state=${state}&state=${state}`)
  assert.equal(repeated.status, 400)

  assert.ok(await stillPending(listener.response))

  const good = await send(localUrl(listener) + query({ code: 'real', state }))
  assert.equal(good.status, 200)
  assert.deepEqual(await listener.response, { code: 'real', state })
})

test('favicon.ico, a bare /, HEAD and other noise do not end the flow', async (t) => {
  const listener = await open(t)

  assert.equal((await send(localUrl(listener, '/favicon.ico'))).status, 404)
  assert.equal((await send(localUrl(listener))).status, 404)
  assert.equal((await send(localUrl(listener, '/?foo=bar'))).status, 404)
  const head = await send(localUrl(listener) + query({ code: 'c', state }), { method: 'HEAD' })
  assert.equal(head.status, 404)
  assert.equal(head.body, '')
  assert.equal((await send(localUrl(listener), { method: 'PUT', body: 'x' })).status, 405)
  const plainPost = await send(localUrl(listener), {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: `code=c&state=${state}`,
  })
  assert.equal(plainPost.status, 415)
  const onlyState = await send(localUrl(listener) + query({ state }))
  assert.equal(onlyState.status, 400)

  // A form post over 64 KiB is refused (the server may cut the connection while the client still writes).
  const huge = await postForm(localUrl(listener), { state, code: 'x'.repeat(70 * 1024) }).then(
    (reply) => reply.status,
    (error: NodeJS.ErrnoException) => error.code,
  )
  assert.ok(huge === 413 || huge === 'ECONNRESET' || huge === 'EPIPE', `got ${String(huge)}`)

  assert.ok(await stillPending(listener.response))

  // An idle connection (a browser's preconnect) must not keep the server alive afterwards.
  const idle = connect({ host: '127.0.0.1', port: listener.port })
  const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()))
  idle.on('error', () => undefined)
  await new Promise((resolve) => idle.once('connect', resolve))

  const good = await send(localUrl(listener, '/some/path') + query({ code: 'real', state }))
  assert.equal(good.status, 200)
  assert.deepEqual(await listener.response, { code: 'real', state })
  await idleClosed
})

test('an error response is shown escaped and resolves with the error parameters', async (t) => {
  const listener = await open(t)
  const params = {
    error: 'access_denied',
    error_description: 'AADSTS65004: <script>alert("x")</script> & more',
    error_uri: 'https://login.microsoftonline.com/error?code=65004',
    state,
  }
  const reply = await send(localUrl(listener) + query(params))
  assert.equal(reply.status, 200)
  assert.ok(reply.body.includes('&lt;script&gt;'))
  assert.ok(!reply.body.includes('<script'))
  assert.ok(reply.body.includes('&amp; more'))
  assert.ok(reply.body.includes('access_denied'))
  assert.ok(reply.body.includes('https://login.microsoftonline.com/error?code=65004'))
  assert.match(String(reply.headers['content-security-policy']), /^default-src 'none'/)
  assert.equal(reply.headers['x-content-type-options'], 'nosniff')
  assert.deepEqual(await listener.response, params)
})

test('binds 127.0.0.1 only', async (t) => {
  const addresses: unknown[] = []
  const onListen = (message: unknown) => {
    const { server } = message as { server: { address(): unknown } }
    addresses.push(server.address())
  }
  subscribe('tracing:net.server.listen:asyncEnd', onListen)
  let listener: LoopbackListener
  try {
    listener = await open(t)
  } finally {
    unsubscribe('tracing:net.server.listen:asyncEnd', onListen)
  }
  assert.deepEqual(addresses, [{ address: '127.0.0.1', family: 'IPv4', port: listener.port }])

  // No IPv6 listener: refused where ::1 exists, unreachable where it does not; it fails either way.
  await connectionError('::1', listener.port)
  // Not 0.0.0.0 either: Linux routes all of 127/8 to lo, so only a wildcard bind would take this.
  await connectionError('127.0.0.2', listener.port)

  const reply = await send(localUrl(listener) + query({ code: 'c', state }))
  assert.equal(reply.status, 200)
  await listener.response
})

test('timeout rejects with RuntimeFailure timeout and frees the port', async () => {
  const listener = await startLoopback({ expectedState: state, timeoutMs: 30 })
  await assert.rejects(listener.response, (error: unknown) => {
    assert.ok(error instanceof RuntimeFailure)
    assert.equal(error.code, 'timeout')
    assert.equal(error.message, 'no sign-in response within 0.03 s')
    return true
  })
  assert.equal((await connectionError('127.0.0.1', listener.port)).code, 'ECONNREFUSED')
  await listener.close()
})

test('abort rejects with CancelledError; close() cancels a pending wait', async () => {
  const controller = new AbortController()
  const aborted = await startLoopback({ expectedState: state, signal: controller.signal })
  controller.abort()
  await assert.rejects(aborted.response, (error: unknown) => {
    assert.ok(error instanceof CancelledError)
    assert.equal(error.message, 'interrupted')
    return true
  })
  assert.equal((await connectionError('127.0.0.1', aborted.port)).code, 'ECONNREFUSED')

  await assert.rejects(
    startLoopback({ expectedState: state, signal: AbortSignal.abort() }),
    CancelledError,
  )

  const closed = await startLoopback({ expectedState: state })
  await closed.close()
  await closed.close()
  await assert.rejects(closed.response, CancelledError)
})

test('a fixed free port works; a port in use is a UsageError', async () => {
  const port = await freePort()
  const listener = await startLoopback({ expectedState: state, port })
  try {
    assert.equal(listener.port, port)
    assert.equal(listener.redirectUri, `http://localhost:${port}`)
    const reply = await send(`http://127.0.0.1:${port}/` + query({ code: 'c', state }))
    assert.equal(reply.status, 200)
    assert.deepEqual(await listener.response, { code: 'c', state })
  } finally {
    await listener.close()
  }

  const taken = createServer()
  await listenOn(taken, 0)
  const takenPort = (taken.address() as AddressInfo).port
  try {
    await assert.rejects(
      startLoopback({ expectedState: state, port: takenPort }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.code, 'port_in_use')
        assert.equal(error.message, `cannot listen on 127.0.0.1:${takenPort}: it is in use`)
        assert.equal(error.hint, 'redirect_port')
        return true
      },
    )
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }

  await assert.rejects(startLoopback({ expectedState: state, port: 70_000 }), UsageError)
  await assert.rejects(startLoopback({ expectedState: '' }), UsageError)
})

test('two answers racing on two open connections: the first wins, the second changes nothing', async (t) => {
  const listener = await open(t)
  const first = { code: 'first-code', state }
  const second = { code: 'second-code', state }
  const replies = await Promise.allSettled([
    send(localUrl(listener) + query(first)),
    send(localUrl(listener) + query(second)),
  ])
  const resolved = await listener.response
  assert.ok(
    [first.code, second.code].includes(resolved['code'] ?? ''),
    `resolved with ${JSON.stringify(resolved)}`,
  )
  const completed = replies.filter(
    (r) => r.status === 'fulfilled' && /Authentication completed/.test(r.value.body),
  )
  assert.equal(completed.length, 1, 'only one answer is taken as the sign-in')
  assert.equal((await connectionError('127.0.0.1', listener.port)).code, 'ECONNREFUSED')
})

test('a flood of bad requests and an oversized request line leave it answering the real redirect', async (t) => {
  const listener = await open(t)
  const flood = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) =>
      send(localUrl(listener, `/noise/${i}`) + query({ code: `forged-${i}`, state: `wrong-${i}` })),
    ),
  )
  const statuses = new Set(
    flood.map((r) => (r.status === 'fulfilled' ? r.value.status : 'connection error')),
  )
  assert.deepEqual([...statuses], [400], 'every forged answer refused')
  const oversized = await send(
    localUrl(listener) + query({ state, pad: 'x'.repeat(100 * 1024) }),
  ).then(
    (reply) => reply.status,
    (error: NodeJS.ErrnoException) => error.code,
  )
  assert.ok(oversized === 431 || oversized === 'ECONNRESET', `got ${String(oversized)}`)
  assert.ok(await stillPending(listener.response), 'still waiting for the real answer')

  const real = await send(localUrl(listener) + query({ code: 'real', state }))
  assert.equal(real.status, 200)
  assert.deepEqual(await listener.response, { code: 'real', state })
})
