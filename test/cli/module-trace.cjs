// Preloaded with --require: appends every module the process loads to MSAL_TS_TEST_MODULE_LOG.
const { appendFileSync } = require('node:fs')
const Module = require('node:module')
const load = Module._load
// A dependency bundled into dist/vendor/ is logged under its package name as well, which is what
// the tests ask about.
const vendored = /^\.\/vendor\/(.+)\.cjs$/
Module._load = function (request, ...rest) {
  const bundled = vendored.exec(request)?.[1].replace('+', '/')
  appendFileSync(
    process.env.MSAL_TS_TEST_MODULE_LOG,
    `${request}\n${bundled === undefined ? '' : `${bundled}\n`}`,
  )
  return load.call(this, request, ...rest)
}
