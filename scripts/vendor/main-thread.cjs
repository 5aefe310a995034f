'use strict'
// What write-file-atomic reads of node:worker_threads: threadId, part of its temporary file's
// name. The CLI, the only user of the vendored bundles, runs no worker threads: its thread is the
// main one, whose threadId is 0. Loading node:worker_threads costs a millisecond of every cache
// write. A test checks the value against Node's own.
module.exports = { threadId: 0 }
