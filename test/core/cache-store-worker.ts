// Child process for the multi-process tests of cache-store.ts.
//   add  <path> <id>: under the lock, read the document, add key <id>, write it back.
//   hold <path>:      take the lock, print "locked", then wait until killed.
//   churn <path>:     write ever larger documents under the lock, printing "writing" once, until killed.
import { openJsonFileStore } from '../../src/core/storage/cache-store.js'

const [mode, path, id] = process.argv.slice(2)
if (path === undefined) {
  throw new Error('usage: cache-store-worker.ts add|hold|churn <path> [id]')
}
const store = openJsonFileStore({ path, lockStaleMs: 2000, lockWaitMs: 30_000 })

if (mode === 'add') {
  if (id === undefined) {
    throw new Error('add needs an id')
  }
  await store.withLock(async () => {
    const document = (await store.read()) ?? {}
    document[id] = { pid: process.pid }
    await store.write(document)
  })
} else if (mode === 'hold') {
  await store.withLock(async () => {
    process.stdout.write('locked\n')
    // The lock's refresh timer is unref'd; this one keeps the process alive until it is killed.
    await new Promise(() => setInterval(() => {}, 60_000))
  })
} else if (mode === 'churn') {
  // Each document is { n, padding }: big enough that a write takes a while, so a kill lands in one.
  for (let n = 0; ; n++) {
    await store.withLock(() => store.write({ n, padding: 'x'.repeat(64 * 1024 + n * 512) }))
    if (n === 0) {
      process.stdout.write('writing\n')
    }
  }
} else {
  throw new Error(`unknown mode ${mode}`)
}
