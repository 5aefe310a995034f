/**
 * A real, headless Chromium for the browser sign-in tests: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile each time and every background service that would call
 * out to the internet switched off, so it only ever talks to loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const chromiumPath = process.env['MSAL_TS_TEST_CHROMIUM'] ?? '/usr/bin/chromium'

const args = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--no-default-browser-check',
  '--no-proxy-server',
]

export interface TestBrowser {
  page: Page
  context: BrowserContext
  close(): Promise<void>
}

/**
 * A browser with its own temporary profile (no cookies, no SSO session from an earlier test).
 * It trusts the test STS's certificate through `ignoreHTTPSErrors`: that is the test identity
 * provider's certificate, not anything msal-ts itself checks.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'msal-ts-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    ignoreHTTPSErrors: true,
    args,
    timeout: 30_000,
  })
  context.setDefaultTimeout(15_000)
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    page,
    context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}

/** Types the username and password into the STS's sign-in form and submits it, as a person would. */
export async function signInWithForm(page: Page, username: string, password: string) {
  await page.locator('#username').fill(username)
  await page.locator('#password').fill(password)
  await page.locator('#submit').click()
}
