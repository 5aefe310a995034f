import { existsSync } from 'node:fs'
import { safeUrl } from '../../core/http/endpoint-url.js'
import { type Io, say } from './io.js'
import { browserOpener } from '../../esm-packages.js'

/** Why no browser can be opened here, or undefined when one probably can. */
export function whyNoBrowser(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  // A browser command the person named (devcontainers and Codespaces set one) beats every guess.
  if (env['BROWSER']) {
    return undefined
  }
  const display = env['DISPLAY'] || env['WAYLAND_DISPLAY']
  if ((env['SSH_CONNECTION'] || env['SSH_TTY']) && !display) {
    return 'this is an SSH session'
  }
  if (platform !== 'linux') {
    return undefined
  }
  if (env['WSL_DISTRO_NAME']) {
    return undefined
  }
  if (existsSync('/.dockerenv') || env['container']) {
    return 'this is a container'
  }
  if (!display) {
    return 'there is no display'
  }
  return undefined
}

/** Shows the sign-in page: the browser when one can open, and the URL on stderr in every case. */
export async function showSignInPage(
  io: Io,
  url: string,
  options: { browser: boolean; fixedPort: boolean },
): Promise<void> {
  // Core only builds https (or loopback http) sign-in URLs; this is the last line before a browser.
  safeUrl(url, 'the sign-in URL')
  if (!options.browser) {
    say(io, noBrowserAdvice(url, options))
    say(io, url)
    return
  }
  const reason = whyNoBrowser(io.env)
  if (reason) {
    say(io, `msal-ts: cannot open a browser (${reason}); open this URL to sign in:`)
    say(io, url)
    return
  }
  say(io, 'Opening your browser to sign in. If it does not open, use this URL:')
  say(io, url)
  try {
    const { default: open } = await browserOpener()
    const named = io.env['BROWSER']
    const child = await open(url, named ? { app: { name: named } } : {})
    child.once('error', () => undefined)
  } catch {
    // The URL is already on the screen; the person can open it by hand.
  }
}

/**
 * What to do with a printed sign-in URL: the browser's redirect comes back to a port on this
 * machine, so a browser elsewhere needs that port forwarded here.
 */
function noBrowserAdvice(url: string, { fixedPort }: { fixedPort: boolean }): string {
  const redirect = new URL(url).searchParams.get('redirect_uri') ?? ''
  const port = URL.canParse(redirect) ? new URL(redirect).port : ''
  if (!port) {
    return 'Open this URL in a browser to sign in:'
  }
  const advice =
    `Open this URL in a browser to sign in; msal-ts waits for the browser to come back to http://localhost:${port}. ` +
    `With the browser on another machine, first run there: ssh -L ${port}:localhost:${port} <this host>`
  return fixedPort ? advice : `${advice} (--redirect-port keeps the port the same between runs).`
}
