'use strict'
// ioredis's `debug`, loaded only when DEBUG is set. ioredis makes a logger for each of its modules
// as it loads, and `debug` sets itself up first (supports-color, node:tty, node:os, and stderr
// opened to ask whether it is a terminal): milliseconds of every run that uses Redis. Only DEBUG,
// read as `debug` loads, turns a logger on: nothing else can reach this copy of `debug`, bundled
// into ioredis's file, to enable one later. Without it every logger is off for good, as these are.
if (process.env.DEBUG) {
  module.exports = require('debug')
} else {
  const createDebug = (namespace) => Object.assign(() => undefined, { namespace, enabled: false })
  module.exports = Object.assign(createDebug, { default: createDebug })
}
