'use strict'
// What undici reads of node:http when it is loaded: maxHeaderSize, its bound on a response's
// headers, and IncomingMessage, the one stream whose socket its destroy() detaches first. Loading
// node:http itself (its agent, client and server) costs milliseconds of every token request.
// maxHeaderSize is Node's --max-http-header-size, which only Node's command line and NODE_OPTIONS
// set (or a config file they name): when either mentions it, Node's own module answers instead.
// msal-ts gives undici string bodies only, so what undici destroys is its own response bodies and
// its sockets, never an IncomingMessage: the class here is one nothing is ever made from.
// A test checks the default against Node's.
const optionSources = [...process.execArgv, process.env.NODE_OPTIONS ?? '']
const mayBeSet = optionSources.some((option) =>
  /max[-_]http[-_]header[-_]size|config[-_]file/.test(option),
)

module.exports = mayBeSet
  ? require('node:http')
  : { IncomingMessage: class IncomingMessage {}, maxHeaderSize: 16 * 1024 }
