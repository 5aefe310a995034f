import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { RuntimeFailure, UsageError } from '../../src/core/kernel/errors.js'
import { createHttpClient } from '../../src/core/http/client.js'
import type { LogEvent } from '../../src/core/kernel/log.js'
import { serveOnLoopback } from '../fixtures/loopback-server.js'

/**
 * The HTTP client's own defences: a credential never goes over plain http to a remote host, and no
 * body is read past its bound. Servers here are plain HTTP on loopback; the remote host is a name
 * nothing may resolve, which the refusal must not even try.
 */
describe('createHttpClient', () => {
  let server: Server
  let base: string
  /** What each request to `/<name>` gets; requests are counted by path. */
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>()
  const seen: string[] = []
  const events: LogEvent[] = []
  const http = createHttpClient({ timeoutMs: 10_000 }, (event) => events.push(event))

  before(async () => {
    ;({ server, url: base } = await serveOnLoopback(async (req, res) => {
      seen.push(req.url ?? '')
      for await (const chunk of req) {
        void chunk
      }
      const route = routes.get(new URL(req.url ?? '/', base).pathname)
      if (route === undefined) {
        res.writeHead(404)
        res.end()
        return
      }
      route(req, res)
    }))
  })
  after(async () => {
    await http.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  const insecure = (host: string) => (error: unknown) => {
    assert.ok(error instanceof RuntimeFailure)
    assert.equal(error.code, 'insecure_endpoint')
    assert.equal(
      error.message,
      `refusing to send a credential over http to ${host}: only https, or http to a loopback host, may carry one`,
    )
    return true
  }

  test('a form POST to a plain-http remote host is refused before any attempt', async () => {
    events.length = 0
    await assert.rejects(
      http.request({
        method: 'POST',
        url: 'http://sts.example.test/tenant/oauth2/v2.0/token',
        form: { client_secret: 's3cret', grant_type: 'client_credentials' },
      }),
      insecure('sts.example.test'),
    )
    // Every attempt, answered or failed, is logged: none was made.
    assert.deepEqual(events, [])
  })

  test('so is any request marked as carrying a credential', async () => {
    events.length = 0
    await assert.rejects(
      http.request({
        method: 'GET',
        url: 'http://10.1.2.3:8080/token',
        headers: { authorization: 'Bearer runtime-token' },
        carriesCredential: true,
      }),
      insecure('10.1.2.3:8080'),
    )
    await assert.rejects(
      http.request({ method: 'POST', url: 'ftp://sts.example.test/token', form: { code: 'c' } }),
      /refusing to send a credential over ftp to sts\.example\.test: /,
    )
    assert.deepEqual(events, [])
  })

  test('plain http to loopback (127.0.0.0/8, localhost, *.localhost) carries a form', async () => {
    routes.set('/form', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    })
    const port = new URL(base).port
    for (const host of ['127.0.0.1', 'localhost', 'westus2.localhost']) {
      const answer = await http.request({
        method: 'POST',
        url: `http://${host}:${port}/form`,
        form: { client_secret: 's' },
      })
      assert.equal(answer.status, 200, host)
      assert.equal(answer.body, '{"ok":true}')
    }
  })

  test('an endless body is abandoned once past 1 MiB, and the connection is closed', async () => {
    let closed!: Promise<number>
    routes.set('/endless', (_req, res) => {
      let sent = 0
      closed = new Promise((resolve) => res.on('close', () => resolve(sent)))
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 'a')
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          sent += chunk.length
        }
        if (!res.destroyed) {
          res.once('drain', pump)
        }
      }
      res.write('{"access_token":"')
      pump()
    })
    await assert.rejects(
      http.request({ method: 'GET', url: `${base}/endless` }),
      (error: unknown) => {
        assert.ok(error instanceof RuntimeFailure)
        assert.equal(error.code, 'response_too_large')
        assert.equal(error.message, `answer from ${new URL(base).host} is larger than 1 MiB`)
        return true
      },
    )
    const sent = await closed
    assert.ok(sent < 64 * 1024 * 1024, `the server stopped after ${sent} bytes`)
  })

  test('a declared length past the bound fails at once; a per-request bound applies exactly', async () => {
    routes.set('/declared', (_req, res) => {
      res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) })
      res.write('{')
    })
    await assert.rejects(
      http.request({ method: 'GET', url: `${base}/declared` }),
      /^RuntimeFailure: answer from .* is larger than 1 MiB$/,
    )
    routes.set('/hundred', (_req, res) => {
      res.writeHead(200)
      res.end('x'.repeat(100))
    })
    const exact = await http.request({ method: 'GET', url: `${base}/hundred`, maxBodyBytes: 100 })
    assert.equal(exact.body.length, 100)
    await assert.rejects(
      http.request({ method: 'GET', url: `${base}/hundred`, maxBodyBytes: 99 }),
      /is larger than 99 bytes$/,
    )
  })

  test('a 500 is retried once, unless the caller runs its own retry policy', async () => {
    routes.set('/fail', (_req, res) => {
      res.writeHead(500)
      res.end()
    })
    seen.length = 0
    assert.equal((await http.request({ method: 'GET', url: `${base}/fail` })).status, 500)
    assert.equal(seen.length, 2)
    seen.length = 0
    assert.equal(
      (await http.request({ method: 'GET', url: `${base}/fail`, retry: false })).status,
      500,
    )
    assert.equal(seen.length, 1)
  })

  test('a form goes with its length, not in chunks, and requests share one connection', async () => {
    const received: { length?: string; chunked?: string; port?: number; body: string }[] = []
    routes.set('/form', (req, res) => {
      received.push({
        ...(req.headers['content-length'] ? { length: req.headers['content-length'] } : {}),
        ...(req.headers['transfer-encoding'] ? { chunked: req.headers['transfer-encoding'] } : {}),
        ...(req.socket.remotePort !== undefined ? { port: req.socket.remotePort } : {}),
        body: '',
      })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('\ufeff{"ok":true}')
    })
    const form = { grant_type: 'client_credentials', scope: 'a b', secret: 'é~' }
    const first = await http.request({ method: 'POST', url: `${base}/form`, form })
    await http.request({ method: 'POST', url: `${base}/form`, form })
    // A leading byte order mark is dropped, as a JSON reader expects.
    assert.equal(first.body, '{"ok":true}')
    const length = String(Buffer.byteLength(new URLSearchParams(form).toString()))
    assert.deepEqual(
      received.map(({ length, chunked }) => ({ length, chunked })),
      [
        { length, chunked: undefined },
        { length, chunked: undefined },
      ],
    )
    assert.equal(received[0]?.port, received[1]?.port, 'a second connection was opened')
  })

  test('a server that never answers, or stops mid-body, fails at the request limit; a caller may end it sooner', async () => {
    routes.set('/silent', () => undefined)
    const quick = createHttpClient({ timeoutMs: 300 })
    try {
      const started = Date.now()
      await assert.rejects(
        quick.request({ method: 'GET', url: `${base}/silent`, retry: false }),
        (error: unknown) => {
          assert.ok(error instanceof RuntimeFailure)
          assert.equal(error.code, 'timeout')
          assert.equal(error.message, `${new URL(base).host} did not answer within 0.3 s`)
          return true
        },
      )
      assert.ok(Date.now() - started < 5000)
      // The limit holds while the body is read too.
      routes.set('/stalls', (_req, res) => {
        res.writeHead(200)
        res.write('{"access_token":')
      })
      await assert.rejects(quick.request({ method: 'GET', url: `${base}/stalls`, retry: false }), {
        code: 'timeout',
      })
      const controller = new AbortController()
      setTimeout(() => controller.abort(new Error('stopped by the caller')), 50)
      await assert.rejects(
        quick.request({ method: 'GET', url: `${base}/silent`, signal: controller.signal }),
        /stopped by the caller/,
      )
    } finally {
      await quick.close()
    }
  })

  test("headers past Node's bound fail with one line naming them", async () => {
    routes.set('/huge-headers', (_req, res) => {
      res.writeHead(200, { 'x-filler': 'a'.repeat(20 * 1024) })
      res.end('{}')
    })
    await assert.rejects(
      http.request({ method: 'GET', url: `${base}/huge-headers`, retry: false }),
      (error: unknown) => {
        assert.ok(error instanceof RuntimeFailure)
        assert.equal(error.code, 'connection_failed')
        assert.equal(
          error.message,
          `cannot read the answer of ${new URL(base).host}: its headers are larger than Node's limit (HPE_HEADER_OVERFLOW)`,
        )
        return true
      },
    )
  })

  test('NODE_EXTRA_CA_CERTS that every user can write is no trust to make a request with', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'msal-ts-extra-ca-'))
    const file = join(dir, 'extra.pem')
    await writeFile(file, 'not read: only who may write it is asked\n')
    await chmod(file, 0o666)
    const saved = process.env['NODE_EXTRA_CA_CERTS']
    process.env['NODE_EXTRA_CA_CERTS'] = file
    try {
      const client = createHttpClient({})
      await assert.rejects(
        client.request({ method: 'GET', url: 'https://127.0.0.1:9/x' }),
        (error: unknown) => {
          assert.ok(error instanceof UsageError)
          assert.equal(error.code, 'ca_file')
          assert.equal(
            error.message,
            `cannot use the CA file ${file} (from NODE_EXTRA_CA_CERTS): every user can write it (mode 0666)`,
          )
          return true
        },
      )
      await client.close()
      await chmod(file, 0o644)
      const owned = createHttpClient({})
      await assert.rejects(
        owned.request({ method: 'GET', url: 'https://127.0.0.1:9/x' }),
        RuntimeFailure,
      )
      await owned.close()
    } finally {
      if (saved === undefined) {
        delete process.env['NODE_EXTRA_CA_CERTS']
      } else {
        process.env['NODE_EXTRA_CA_CERTS'] = saved
      }
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a port nothing listens on is tried twice, then named', async () => {
    const closed = createTcpServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const attempts: LogEvent[] = []
    const client = createHttpClient({}, (event) => attempts.push(event))
    await assert.rejects(
      client.request({ method: 'GET', url: `http://127.0.0.1:${port}/x` }),
      (error: unknown) => {
        assert.ok(error instanceof RuntimeFailure)
        assert.equal(error.code, 'connection_failed')
        assert.equal(error.message, `cannot reach 127.0.0.1:${port}: ECONNREFUSED`)
        return true
      },
    )
    assert.equal(attempts.filter((event) => event.kind === 'http').length, 2)
    await client.close()
  })

  test('plain http to a loopback host goes direct, past any proxy, and a pin needs https', async () => {
    const knocks: string[] = []
    const proxy = createTcpServer((socket) => {
      knocks.push('knock')
      socket.destroy()
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxied = createHttpClient({
      proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    })
    try {
      routes.set('/local', (_req, res) => {
        res.writeHead(200)
        res.end('{}')
      })
      const answer = await proxied.request({
        method: 'POST',
        url: `${base}/local`,
        form: { client_secret: 's3cret' },
      })
      assert.equal(answer.status, 200)
      assert.deepEqual(knocks, [], 'the proxy was asked')
      await assert.rejects(
        proxied.request({ method: 'GET', url: `${base}/local`, serverCertificateSha1: 'ab' }),
        (error: unknown) => {
          assert.ok(error instanceof RuntimeFailure)
          assert.equal(error.code, 'insecure_endpoint')
          assert.match(error.message, /^a pinned server certificate needs https/)
          return true
        },
      )
    } finally {
      await proxied.close()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  test('a client closed by its owner opens new connections for a later request', async () => {
    routes.set('/again', (_req, res) => {
      res.writeHead(200)
      res.end('{}')
    })
    const client = createHttpClient()
    assert.equal((await client.request({ method: 'GET', url: `${base}/again` })).status, 200)
    await client.close()
    assert.equal((await client.request({ method: 'GET', url: `${base}/again` })).status, 200)
    await client.close()
  })

  test('a proxy that refuses the tunnel is named with its answer', async () => {
    const proxy = createTcpServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'))
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const client = createHttpClient({
      proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    })
    try {
      await assert.rejects(
        client.request({ method: 'GET', url: 'https://127.0.0.1:9/x', retry: false }),
        (error: unknown) => {
          assert.ok(error instanceof RuntimeFailure)
          assert.equal(error.code, 'connection_failed')
          assert.equal(
            error.message,
            'cannot reach 127.0.0.1:9: the proxy answered 403 to its CONNECT request',
          )
          return true
        },
      )
    } finally {
      await client.close()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  test('a proxy variable without a scheme is an http:// proxy; one that is no URL is refused by name', async () => {
    const connects: string[] = []
    const proxy = createTcpServer((socket) => {
      socket.once('data', (head) => {
        connects.push(head.toString('latin1').split('\r\n')[0] ?? '')
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n')
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const saved = { ...process.env }
    const request = async () => {
      const client = createHttpClient()
      try {
        return await client.request({ method: 'GET', url: 'https://127.0.0.1:9/x', retry: false })
      } finally {
        await client.close()
      }
    }
    try {
      for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'NO_PROXY']) {
        delete process.env[name]
      }
      process.env['HTTPS_PROXY'] = `127.0.0.1:${(proxy.address() as AddressInfo).port}/ignored`
      await assert.rejects(request(), /the proxy answered 403 to its CONNECT request/)
      assert.deepEqual(connects, ['CONNECT 127.0.0.1:9 HTTP/1.1'])
      process.env['NO_PROXY'] = '*'
      await assert.rejects(request(), /cannot reach 127\.0\.0\.1:9: ECONNREFUSED/)
      assert.equal(connects.length, 1, 'NO_PROXY was not honoured')
      // HTTP_PROXY is for http:// URLs only, as curl and requests read it.
      delete process.env['NO_PROXY']
      delete process.env['HTTPS_PROXY']
      process.env['HTTP_PROXY'] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      await assert.rejects(request(), /cannot reach 127\.0\.0\.1:9: ECONNREFUSED/)
      assert.equal(connects.length, 1, 'HTTP_PROXY carried an https request')
      process.env['HTTPS_PROXY'] = 'http://user:pa ss@[bad'
      await assert.rejects(request(), (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.code, 'invalid_proxy')
        assert.equal(error.message, 'HTTPS_PROXY is not an http:// or https:// proxy URL')
        return true
      })
    } finally {
      for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'NO_PROXY']) {
        if (saved[name] === undefined) {
          delete process.env[name]
        } else {
          process.env[name] = saved[name]
        }
      }
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  test('a timeout is whole milliseconds above 0 and within what a timer can wait', async () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      assert.throws(() => createHttpClient({ timeoutMs }), { code: 'invalid_timeout' })
    }
    routes.set('/slow', () => undefined)
    const client = createHttpClient({ timeoutMs: 1.5 })
    try {
      await assert.rejects(client.request({ method: 'GET', url: `${base}/slow`, retry: false }), {
        code: 'timeout',
      })
    } finally {
      await client.close()
    }
  })

  test('a proxy that closes the connection fails the request after one retry', async () => {
    const sockets = new Set<Socket>()
    const proxy = createTcpServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => undefined)
      // Read the CONNECT request, then hang up without an answer, as a proxy refusing it may.
      socket.once('data', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const client = createHttpClient({ proxy: `http://${proxyHost}`, timeoutMs: 10_000 })
    const target = new URL(base).host
    try {
      await assert.rejects(
        client.request({ method: 'GET', url: `https://${target}/tunnelled` }),
        (error: unknown) => {
          assert.ok(error instanceof RuntimeFailure)
          assert.equal(error.code, 'connection_failed')
          assert.equal(
            error.message,
            `cannot reach ${target} through the proxy ${proxyHost}: the proxy closed the connection`,
          )
          return true
        },
      )
      assert.equal(sockets.size, 2, 'one connection and the one retry, never a reconnect loop')
    } finally {
      await client.close()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  test('a proxy that never answers CONNECT is given up at the request limit', async () => {
    const sockets = new Set<Socket>()
    const proxy = createTcpServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const client = createHttpClient({
      proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      timeoutMs: 200,
    })
    try {
      await assert.rejects(
        client.request({ method: 'GET', url: `https://${new URL(base).host}/tunnelled` }),
        (error: unknown) => {
          assert.ok(error instanceof RuntimeFailure)
          assert.equal(error.code, 'timeout')
          return true
        },
      )
    } finally {
      await client.close()
      for (const socket of sockets) {
        socket.destroy()
      }
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})
