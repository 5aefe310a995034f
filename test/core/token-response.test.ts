import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { OAuthServerError, RuntimeFailure } from '../../src/core/kernel/errors.js'
import { checkTokenResponse, maxLifetimeSeconds } from '../../src/core/protocol/token-response.js'

const now = 1_700_000_000
const from = 'sts.test'
const check = (body: Record<string, unknown>, asked?: string) =>
  checkTokenResponse(body, { from, now, asked })

/** Asserts a refusal: invalid_response (or `code`), one line naming who answered and `what`. */
function refused(
  body: Record<string, unknown>,
  what: RegExp,
  options: { asked?: string; code?: string } = {},
) {
  assert.throws(
    () => check(body, options.asked),
    (error) => {
      assert.ok(error instanceof RuntimeFailure, String(error))
      assert.equal(error.code, options.code ?? 'invalid_response')
      assert.match(error.message, /^sts\.test answered /)
      assert.match(error.message, what)
      assert.doesNotMatch(error.message, /[\r\n]/)
      return true
    },
  )
}

describe('checkTokenResponse', () => {
  test('a good answer comes back normalised: lifetimes as whole seconds, unknown fields dropped', () => {
    assert.deepEqual(
      check({
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: '3599',
        ext_expires_in: 7199,
        refresh_in: 1800.7,
        refresh_token: 'rt',
        id_token: 'idt',
        client_info: 'ci',
        scope: 'a b',
        foci: '1',
        not_before: '123',
        unexpected: { nested: true },
      }),
      {
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 7199,
        refresh_in: 1800,
        refresh_token: 'rt',
        id_token: 'idt',
        client_info: 'ci',
        scope: 'a b',
        foci: '1',
      },
    )
  })

  test('a missing token_type is Bearer (as MSAL); bearer in any case is accepted and kept as sent', () => {
    assert.equal(check({ access_token: 'at' }).token_type, undefined)
    assert.equal(check({ access_token: 'at', token_type: 'bearer' }).token_type, 'bearer')
    assert.equal(check({ access_token: 'at', token_type: null }).token_type, undefined)
  })

  test('expires_on stands in for a missing expires_in, as a lifetime from now', () => {
    assert.equal(check({ access_token: 'at', expires_on: String(now + 3600) }).expires_in, 3600)
    assert.equal(check({ access_token: 'at', expires_on: now + 60 }).expires_in, 60)
    assert.equal(
      check({ access_token: 'at', expires_in: 10, expires_on: 'ignored' }).expires_in,
      10,
    )
    assert.equal(check({ access_token: 'at' }).expires_in, undefined)
  })

  test('another token type than asked for is refused (RFC 6749 7.1)', () => {
    refused(
      { access_token: 'at', token_type: 'mac' },
      /a token of type "mac" to a request for Bearer/,
    )
    refused({ access_token: 'at', token_type: 'pop' }, /a token of type "pop"/)
    refused(
      { access_token: 'at', token_type: 'Bearer' },
      /a "Bearer" token to a Proof-of-Possession/,
      {
        asked: 'pop',
        code: 'pop_not_issued',
      },
    )
    refused({ access_token: 'at' }, /Proof-of-Possession/, { asked: 'pop', code: 'pop_not_issued' })
    assert.equal(check({ access_token: 'at', token_type: 'PoP' }, 'pop').token_type, 'PoP')
  })

  test('a control character in the token or its type is refused', () => {
    for (const bad of ['\r\n', '\n', '\u0000', '\u001b[31m', '\u007f', '\u0085']) {
      refused({ access_token: `a${bad}b` }, /an access token holding a control character/)
      refused(
        { access_token: 'at', token_type: `Bearer${bad}X-Injected: 1` },
        /token_type that is not a plain string/,
      )
    }
    refused({ access_token: 'at', token_type: 7 }, /token_type that is not a plain string/)
  })

  test('a token with bytes that were not text (U+FFFD) or other non-ASCII is refused, not cached altered', () => {
    for (const bad of ['\ufffd', 'é', '\u200b', '🔑']) {
      refused(
        { access_token: `a${bad}b` },
        /an access token holding a character other than printable ASCII$/,
      )
      refused(
        { access_token: 'at', refresh_token: `r${bad}t` },
        /a refresh_token holding a character other than printable ASCII$/,
      )
    }
    assert.equal(check({ access_token: 'a b~!"#' }).access_token, 'a b~!"#')
  })

  test('a missing, empty or non-string access token is refused', () => {
    for (const accessToken of [undefined, '', 42, null, ['at'], { at: 1 }]) {
      refused({ access_token: accessToken }, /without an access token/)
    }
  })

  test('lifetimes must be whole seconds between 1 s and ten years', () => {
    for (const name of ['expires_in', 'ext_expires_in', 'refresh_in']) {
      for (const value of [
        1e21,
        '1e21',
        'soon',
        '',
        -5,
        0,
        '0',
        0.5,
        Infinity,
        '12.5',
        true,
        [60],
        {},
      ]) {
        refused(
          { access_token: 'at', [name]: value },
          new RegExp(`^sts\\.test answered ${name} .*not a lifetime`),
        )
      }
      assert.equal(
        check({ access_token: 'at', [name]: maxLifetimeSeconds })[name as 'expires_in'],
        maxLifetimeSeconds,
      )
      refused({ access_token: 'at', [name]: maxLifetimeSeconds + 1 }, /not a lifetime/)
    }
    refused({ access_token: 'at', expires_on: now }, /expires_on .*not a lifetime/)
    refused({ access_token: 'at', expires_on: 1e21 }, /expires_on .*not a lifetime/)
    refused({ access_token: 'at', expires_on: '09/14/2017 00:00:00 PM +00:00' }, /expires_on/)
  })

  test('the value shown in a refusal is short and on one line', () => {
    refused({ access_token: 'at', expires_in: `soon\r\n${'x'.repeat(500)}` }, /^.{0,120}$/)
  })

  test('string fields must be strings', () => {
    for (const name of ['refresh_token', 'id_token', 'client_info', 'scope', 'foci']) {
      refused({ access_token: 'at', [name]: 1 }, new RegExp(`a ${name} that is not a string`))
      refused(
        { access_token: 'at', [name]: { x: 1 } },
        new RegExp(`a ${name} that is not a string`),
      )
      assert.equal(Object.hasOwn(check({ access_token: 'at', [name]: null }), name), false)
    }
  })
})

describe('OAuthServerError keeps only well-shaped error fields', () => {
  test('strings stay, others are dropped; error_codes must be integers', () => {
    const error = new OAuthServerError(400, {
      error: 'invalid_client',
      error_description: 12 as unknown as string,
      error_codes: '7000215' as unknown as number[],
      trace_id: 't',
      correlation_id: { id: 1 } as unknown as string,
      error_uri: 'https://x',
      suberror: 'bad_token',
      claims: '{}',
      timestamp: '2024',
      error_additional_info: ['client_mismatch'],
      other: 'dropped',
    })
    assert.equal(error.code, 'invalid_client')
    assert.equal(error.message, 'the identity provider answered 400')
    assert.deepEqual(error.body, {
      error: 'invalid_client',
      trace_id: 't',
      error_uri: 'https://x',
      suberror: 'bad_token',
      claims: '{}',
      timestamp: '2024',
      error_additional_info: ['client_mismatch'],
    })
    assert.deepEqual(new OAuthServerError(400, { error: 'x', error_codes: [7000215, 1.5] }).body, {
      error: 'x',
    })
    assert.deepEqual(
      new OAuthServerError(400, { error: 'x', error_codes: [7000215, 50034] }).body.error_codes,
      [7000215, 50034],
    )
  })

  test('a description keeps its first line', () => {
    const error = new OAuthServerError(400, {
      error: 'invalid_grant',
      error_description: 'AADSTS50034: no such user\r\nTrace ID: t',
    })
    assert.equal(error.message, 'AADSTS50034: no such user')
    assert.equal(error.kind, 'interaction_required')
  })

  test('the body is readable but not enumerable, so a logged or spread error leaves it out', () => {
    const error = new OAuthServerError(400, {
      error: 'invalid_grant',
      error_description: 'AADSTS50034: no such user',
      trace_id: 'trace',
    })
    assert.equal(error.body.trace_id, 'trace')
    assert.equal(Object.keys(error).includes('body'), false)
    assert.equal('body' in { ...error }, false)
    assert.equal(JSON.stringify(error).includes('trace'), false)
  })
})
