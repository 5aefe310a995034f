// Bundles the CLI into one file and the library into another; dependencies stay external so
// that undici and jose load only on the paths that import them.
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
  build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/msal-ts.mjs' }),
  build({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/lib/index.js' }),
])
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'], {
  stdio: 'inherit',
})
