import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  InteractionRequiredError,
  OAuthServerError,
  RuntimeFailure,
  UsageError,
} from '../../src/core/kernel/errors.js'

void test('each error class goes by its own name, and so does a subclass a caller writes', () => {
  class MyFailure extends RuntimeFailure {}
  const mine = new MyFailure('my_code', 'it broke')
  assert.equal(mine.name, 'MyFailure')
  assert.ok(mine instanceof RuntimeFailure)
  assert.match(String(mine.stack), /^MyFailure: it broke\n/)
  assert.equal(new RuntimeFailure('x', 'y').name, 'RuntimeFailure')
  assert.equal(new UsageError('x', 'y').name, 'UsageError')
  assert.equal(new InteractionRequiredError('x', 'y').name, 'InteractionRequiredError')
  assert.equal(new OAuthServerError(400, { error: 'invalid_grant' }).name, 'OAuthServerError')
  assert.equal(String(new UsageError('x', 'bad input')), 'UsageError: bad input')
  const encoded = (error: Error) => JSON.parse(JSON.stringify(error)) as { name?: string }
  assert.equal(encoded(new UsageError('x', 'y')).name, 'UsageError')
  assert.equal(encoded(mine).name, 'MyFailure')
})
