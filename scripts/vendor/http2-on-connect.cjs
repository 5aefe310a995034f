'use strict'
// What undici's HTTP/2 client reads of node:http2 when it is loaded: the constants it destructures
// at load, and connect() on first use. Loading node:http2 itself costs several milliseconds of
// every run, while msal-ts never asks undici for HTTP/2 (allowH2 stays off). A test checks these
// values against Node's own.
const constants = {
  HTTP2_HEADER_AUTHORITY: ':authority',
  HTTP2_HEADER_METHOD: ':method',
  HTTP2_HEADER_PATH: ':path',
  HTTP2_HEADER_SCHEME: ':scheme',
  HTTP2_HEADER_CONTENT_LENGTH: 'content-length',
  HTTP2_HEADER_EXPECT: 'expect',
  HTTP2_HEADER_STATUS: ':status',
  HTTP2_HEADER_PROTOCOL: ':protocol',
  NGHTTP2_REFUSED_STREAM: 7,
  NGHTTP2_CANCEL: 8,
}

module.exports = {
  constants,
  connect: (...args) => require('node:http2').connect(...args),
}
