/**
 * The pages the loopback listener answers a browser with: self-contained HTML under a policy that
 * lets nothing load or run, every piece of request input escaped.
 */
import { createHash } from 'node:crypto'
import type { ServerResponse } from 'node:http'

const css =
  'body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;' +
  'background:#f5f6f8;color:#1b1f24;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
  'main{max-width:34rem;margin:1.5rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;' +
  'box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}' +
  'h1{margin:0 0 .75rem;font-size:1.25rem}h1.ok{color:#107c10}h1.bad{color:#a4262c}' +
  'p{margin:.5rem 0}dl{margin:1rem 0 0}dt{font-weight:600;margin-top:.5rem}' +
  'dd{margin:0;word-break:break-word;white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.875rem}'

/** Nothing may load or run; the one inline style block is allowed by its hash. */
const contentSecurityPolicy = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'`

const securityHeaders = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
} as const

export const stateMismatchText =
  'State mismatch: this response does not belong to the sign-in msal-ts started.'
export const completedText = 'Authentication completed. You can close this window now.'

const htmlEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => htmlEntities[ch] ?? ch)
}

export function failurePage(
  params: Partial<Record<'error' | 'error_description' | 'error_uri', string>>,
): string {
  const rows: string[] = []
  for (const name of ['error', 'error_description', 'error_uri'] as const) {
    const value = params[name]
    if (value !== undefined && value !== '') {
      rows.push(`<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`)
    }
  }
  return page(
    'Sign-in failed',
    '<p>The identity provider returned an error. You can close this window now; msal-ts reports the details.</p>' +
      `<dl>${rows.join('')}</dl>`,
    'bad',
  )
}

/** `body` is trusted markup: every piece of request input in it must already be escaped. */
export function page(title: string, body: string, tone?: 'ok' | 'bad'): string {
  const heading = tone === undefined ? '<h1>' : `<h1 class="${tone}">`
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>msal-ts: ${escapeHtml(title)}</title><style>${css}</style></head>` +
    `<body><main>${heading}${escapeHtml(title)}</h1>${body}</main></body></html>`
  )
}

export function sendNotFound(res: ServerResponse): void {
  sendPage(res, 404, page('Not found', '<p>Nothing here.</p>'))
}

export function sendPage(
  res: ServerResponse,
  status: number,
  html: string,
  extraHeaders: Record<string, string> = {},
): void {
  const body = Buffer.from(html, 'utf8')
  res.writeHead(status, {
    ...securityHeaders,
    'Content-Length': String(body.length),
    ...extraHeaders,
  })
  res.end(body)
}
