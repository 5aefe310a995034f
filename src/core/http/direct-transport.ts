import type * as Http from 'node:http'
import type * as Tls from 'node:tls'
import type { LookupFunction } from 'node:net'

/** An answer whose body is still to be read (and may be given up part way). */
export interface Exchange {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: AsyncIterable<Buffer>
}

export interface ExchangeRequest {
  url: URL
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body: string | undefined
  signal: AbortSignal
}

/**
 * Requests that go straight to the server, through Node's own http and https modules. A cold run
 * on Node 20 spent ~40 ms more CPU in undici than here (its load, and compiling and warming up its
 * WebAssembly HTTP parser, where Node's parser is native): the request a CI job waits for most.
 * undici stays for what Node's client does not do, proxies and pinned certificates.
 */
export function directTransport(
  tls: Pick<Tls.ConnectionOptions, 'secureContext' | 'ca' | 'rejectUnauthorized'>,
  lookup: LookupFunction,
) {
  const agents = new Map<string, Http.Agent>()
  return {
    async send(req: ExchangeRequest): Promise<Exchange> {
      const secure = req.url.protocol === 'https:'
      const module = secure ? await import('node:https') : await import('node:http')
      let agent = agents.get(req.url.protocol)
      if (agent === undefined) {
        // Node's agent lets go of an idle connection's hold on the process, so a run ends at once;
        // a library's process drops one after 10 s idle, as undici's agent does.
        agent = new module.Agent({
          keepAlive: true,
          timeout: 10_000,
          ...(secure ? tls : {}),
          lookup,
        })
        agents.set(req.url.protocol, agent)
      }
      return new Promise<Exchange>((resolve, reject) => {
        const request = module.request(
          req.url,
          {
            agent,
            method: req.method,
            headers: {
              ...req.headers,
              // Without a length Node would send the form in chunks, which not every server takes.
              ...(req.body !== undefined
                ? { 'content-length': String(Buffer.byteLength(req.body)) }
                : {}),
            },
            signal: req.signal,
          },
          (response) => {
            resolve({
              statusCode: response.statusCode ?? 0,
              headers: response.headers,
              body: response,
            })
          },
        )
        request.on('error', reject)
        request.end(req.body)
      })
    },
    close(): void {
      for (const agent of agents.values()) {
        agent.destroy()
      }
    },
  }
}
