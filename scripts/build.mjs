// Bundles the CLI, the cached-token answer of `msal-ts token` (so a cache hit parses a small file,
// not the whole CLI), and the library. Dependencies stay external, and the CLI bundles are CommonJS: there esbuild turns every import of a module reached through a dynamic
// import() into a require() that runs when that module is first used, so a path loads only what it
// needs (an ES module bundle would hoist every import to the top and load it all at start).
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  define: { MSAL_TS_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
await Promise.all([
  build({ ...common, format: 'cjs', entryPoints: ['src/main.ts'], outfile: 'dist/msal-ts.cjs' }),
  // Minified: V8 reads every byte of it on each cache hit, and it reports no errors of its own
  // (anything it cannot answer goes to the full CLI), so no stack trace ever shows its names.
  build({
    ...common,
    format: 'cjs',
    entryPoints: ['src/token-hit.ts'],
    outfile: 'dist/token-hit.cjs',
    minify: true,
  }),
  build({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/lib/index.js' }),
])
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'], {
  stdio: 'inherit',
})
