/**
 * A plain-HTTP loopback server that answers whatever the test scripts, for the managed identity
 * sources (IMDS, App Service), which the test STS does not serve. Every request is logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { flatHeaders, serveOnLoopback } from '../../fixtures/loopback-server.js'
import type { StreamedBody } from '../../fixtures/sts/index.js'

export interface ScriptedAnswer {
  status?: number
  /** Objects are sent as JSON. */
  body?: string | object
  stream?: StreamedBody
}

export interface ScriptedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
}

export interface ScriptedServer {
  url: string
  requests: ScriptedRequest[]
  /** Body bytes streamed so far, all requests together. */
  streamed(): number
  /** What every request gets until the next call. */
  answer(answer: ScriptedAnswer): void
  close(): Promise<void>
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = []
  let current: ScriptedAnswer = { status: 404, body: { error: 'not_found' } }
  let streamed = 0

  const stream = async (res: ServerResponse, spec: StreamedBody) => {
    const bytes = Buffer.from(spec.chunk)
    for (let sent = 0; sent < (spec.count ?? Infinity) && !res.destroyed; sent++) {
      streamed += bytes.length
      if (!res.write(bytes)) {
        await new Promise((resolve) => {
          res.once('drain', resolve)
          res.once('close', resolve)
        })
      }
      if (spec.everyMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, spec.everyMs))
      }
    }
    res.end()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(req.headers),
    })
    req.resume()
    const { status = 200, body, stream: spec } = current
    res.writeHead(status, { 'content-type': 'application/json' })
    if (spec !== undefined) {
      await stream(res, spec)
      return
    }
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  const { server, url } = await serveOnLoopback(handle)
  return {
    url,
    requests,
    streamed: () => streamed,
    answer: (answer) => {
      current = answer
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
