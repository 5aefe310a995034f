// Preloaded with --require: appends every module the process loads to MSAL_TS_TEST_MODULE_LOG.
const { appendFileSync } = require('node:fs')
const Module = require('node:module')
const load = Module._load
Module._load = function (request, ...rest) {
  appendFileSync(process.env.MSAL_TS_TEST_MODULE_LOG, `${request}\n`)
  return load.call(this, request, ...rest)
}
