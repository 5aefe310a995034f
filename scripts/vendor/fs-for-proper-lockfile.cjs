'use strict'
// proper-lockfile's file operations (mkdir, stat, utimes, rmdir, realpath) go to Node's fs, not to
// graceful-fs. graceful-fs retries on EMFILE only the opening of files and whole-file and directory
// reads and writes, and its other patches serve Node before 20 (signed uids, lutimes) or chmod,
// chown and renames: none touches these operations. Loading it costs milliseconds of every cache
// write, as it copies fs, patches the copy and wraps Node's own fs.close.
module.exports = require('node:fs')
