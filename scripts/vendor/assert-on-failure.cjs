'use strict'
// Node's assert, loaded only once a check fails. undici checks its own invariants with assert() on
// every request, signal-exit its argument with assert.equal(), redis-errors (ioredis) a parser
// error's arguments: checks that hold unless a dependency has a bug, while loading node:assert (its
// messages, diffs and call tracker) costs a millisecond of every run. A check that fails is made
// again by Node's own assert, which throws its AssertionError; a message it makes up then quotes
// the line here, not the caller's.
const nodeAssert = () => require('node:assert')

function ok(value) {
  if (!value) {
    nodeAssert().ok(...arguments)
  }
}

function equal(actual, expected) {
  // Loose, as assert.equal is; Node's own then tells the NaN case apart.
  // eslint-disable-next-line eqeqeq
  if (actual != expected) {
    nodeAssert().equal(...arguments)
  }
}

Object.assign(ok, { ok, equal })

// Any other method is Node's own, loaded when first read.
module.exports = new Proxy(ok, {
  get: (target, key) => (key in target ? target[key] : nodeAssert()[key]),
})
