/** The rules shared by the library's constructors, --timeout, --proxy, --app-name and config set. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkSharedOptions,
  headerValueProblem,
  maxTimeoutSeconds,
  proxyShown,
  proxyUrlProblem,
  timeoutProblem,
} from '../../src/core/session/option-checks.js'

test('a timeout is a positive number of seconds Node can wait for', () => {
  for (const good of [0.5, 30, maxTimeoutSeconds]) {
    assert.equal(timeoutProblem(good), undefined, String(good))
  }
  for (const bad of [0, -1, Number.NaN, Infinity, maxTimeoutSeconds + 1, 1e12, '30', null]) {
    assert.ok(timeoutProblem(bad), String(bad))
  }
  // The largest one still fits Node's timers, which take at most 2^31-1 ms.
  assert.ok(maxTimeoutSeconds * 1000 <= 2 ** 31 - 1)
})

test('a proxy URL is an http:// or https:// origin, its user and password decodable', () => {
  for (const good of [
    'http://127.0.0.1:3128',
    'http://127.0.0.1:3128/',
    'https://proxy.example:443',
    'http://user:p%40ss@127.0.0.1:3128',
  ]) {
    assert.equal(proxyUrlProblem(good), undefined, good)
  }
  for (const bad of [
    '',
    'proxy:3128 x',
    'file:///etc/passwd',
    // undici would send TLS straight to the SOCKS port.
    'socks5://127.0.0.1:1080',
    'socks://127.0.0.1:1080',
    'http://127.0.0.1:3128/path',
    'http://127.0.0.1:3128/?q=1',
    'http://127.0.0.1:3128#f',
    'http://u:p@127.0.0.1:48888/%zz',
    'http://u%zz:p@127.0.0.1:3128',
  ]) {
    assert.ok(proxyUrlProblem(bad), bad)
  }
})

test('a header value is printable ASCII text', () => {
  for (const good of ['my-app', 'My App 1.0 (beta)~', '']) {
    assert.equal(headerValueProblem(good), undefined, good)
  }
  for (const bad of [
    'a\r\nX-Inj: 1',
    'a\tb',
    '\u007f',
    '\u0085',
    'ok \u{1f600}',
    '\ud800',
    'café',
    5,
  ]) {
    assert.ok(headerValueProblem(bad), JSON.stringify(bad))
  }
})

test('a proxy URL is shown with its password as ***, URL or not', () => {
  assert.equal(proxyShown('http://user:s3cret@proxy:3128/x'), 'http://user:***@proxy:3128/x')
  assert.equal(proxyShown('http://proxy:3128'), 'http://proxy:3128')
  assert.equal(proxyShown('user:s3cret@proxy:3128 x'), '***@proxy:3128 x')
  assert.equal(proxyShown('ht tp://user:s3cret@proxy'), 'ht tp://***@proxy')
  assert.throws(
    () => checkSharedOptions({ proxies: 'http://u:s3cret@p:1/x' }),
    (error: unknown) => {
      assert.ok(error instanceof Error && !error.message.includes('s3cret'), String(error))
      return true
    },
  )
})
