// Bundles the CLI, the cached-token answer of `msal-ts token` (so a cache hit parses a small file,
// not the whole CLI), and the library. The CLI bundles are CommonJS: there esbuild turns every
// import of a module reached through a dynamic import() into a require() that runs when that
// module is first used, so a path loads only what it needs (an ES module bundle would hoist every
// import to the top and load it all at start).
// The dependencies a command's run needs are bundled too, each into a file of its own under
// dist/vendor/: resolving and reading a package's dozens of files from node_modules cost more than
// the request itself, while one file per package keeps each loaded only by the path that uses it.
// The library leaves every dependency to the application that bundles or installs it.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { fileURLToPath } from 'node:url'

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

// Left in node_modules: `open` finds its own xdg-open script beside its files, and the prompts only
// run while a person types, so their load time is never what anyone waits for.
const unbundled = new Set(['open', '@inquirer/prompts'])
const vendored = Object.keys(pkg.dependencies).filter((name) => !unbundled.has(name))
const vendorFile = (name) => `vendor/${name.replace('/', '+')}.cjs`
// What a vendor bundle holds, when not the whole package: undici's index loads fetch, WebSocket,
// the mocks and the caches, more than half its code, and the CLI uses none of them. Its request
// API is put on the dispatchers as the index does.
// Node 20's V8 compiles undici's WebAssembly HTTP parser a second time, optimised, on threads of
// its own while the run goes on: that doubled the CPU time of a cold client-token and added 35 MiB
// to its peak memory. Its baseline compiler is plenty for a few responses; Node 22 and later do not
// pay this. Set here, where the parser is loaded, so that runs without HTTP never load node:v8; and
// last, as V8 keeps compiled code only for the settings it was compiled under: Node 20's compile
// cache (src/compile-cache.ts) saves what undici's load compiled before they change.
const vendorEntries = {
  undici: [
    "Object.assign(require('undici/lib/dispatcher/dispatcher').prototype, require('undici/lib/api'))",
    'module.exports = {',
    "  Agent: require('undici/lib/dispatcher/agent'),",
    "  EnvHttpProxyAgent: require('undici/lib/dispatcher/env-http-proxy-agent'),",
    "  Pool: require('undici/lib/dispatcher/pool'),",
    "  buildConnector: require('undici/lib/core/connect'),",
    '}',
    "if (process.versions.node.startsWith('20.')) {",
    "  globalThis[Symbol.for('msal-ts.compile-cache')]?.beforeLiftoffOnly()",
    "  require('node:v8').setFlagsFromString('--liftoff-only')",
    '}',
  ].join('\n'),
  // Its Redis class alone: the CLI talks to one server, never to a Cluster (see ioredisStandalone).
  ioredis: "module.exports = { Redis: require('ioredis/built/Redis').default }",
}

/**
 * Node modules a vendored package requires at load but uses only on paths a run may never take
 * (commander's child_process runs executable subcommands; ioredis's tls serves rediss:// only, its
 * crypto Lua scripts): loaded on first use instead, as each costs milliseconds of start-up. Each is
 * used through its namespace object (`tls.connect(...)`), never destructured at load.
 */
const lazyBuiltins = {
  commander: ['node:child_process'],
  ioredis: ['tls', 'crypto'],
}

/**
 * Files of a vendored package that go to files of their own, read only when required: undici's
 * HTTP parser comes as two WebAssembly modules in base64 (72 KB each), of which a run compiles one,
 * on its first connection.
 */
const ownFiles = {
  undici: ['undici/lib/llhttp/llhttp_simd-wasm.js', 'undici/lib/llhttp/llhttp-wasm.js'],
}
/** The file name of a path, which is the file it goes to, beside the bundle, as CommonJS. */
const fileName = (path) => path.replace(/^.*\//, '')
const ownFile = (path) => fileName(path).replace(/\.js$/, '.cjs')

const ownFilesOf = (name) => ({
  name: 'own-files',
  setup(plugin) {
    for (const path of ownFiles[name] ?? []) {
      const filter = new RegExp(`/${fileName(path).replaceAll('.', '\\.')}$`)
      plugin.onResolve({ filter }, () => ({ path: `./${ownFile(path)}`, external: true }))
    }
  },
})

/** Modules a vendored package gets a stand-in for (scripts/vendor/), with why in each. */
const standIns = {
  undici: {
    'node:assert': 'scripts/vendor/assert-on-failure.cjs',
    'node:http': 'scripts/vendor/http-max-header-size.cjs',
    'node:http2': 'scripts/vendor/http2-on-connect.cjs',
  },
  'proper-lockfile': {
    assert: 'scripts/vendor/assert-on-failure.cjs',
    'graceful-fs': 'scripts/vendor/fs-for-proper-lockfile.cjs',
  },
  ioredis: {
    assert: 'scripts/vendor/assert-on-failure.cjs',
    debug: 'scripts/vendor/debug-when-set.cjs',
  },
}

/**
 * What a Redis cache hit loads of ioredis, its load having cost more than the rest of the hit: no
 * Cluster, which Redis.js requires only to hang it on Redis.Cluster; and the prototype of its ~600
 * command methods turned into a dictionary before they are added. V8 keeps a class prototype in
 * fast mode, copying its property list on each property added: one by one, those methods cost
 * ~40 ms of CPU, most of it garbage (Node 20). The build fails if ioredis's code has moved.
 */
const ioredisStandalone = {
  name: 'ioredis-standalone',
  setup(plugin) {
    plugin.onResolve({ filter: /^\.\/cluster$/ }, ({ importer }) =>
      importer.endsWith('/ioredis/built/Redis.js')
        ? { path: 'cluster', namespace: 'no-cluster' }
        : undefined,
    )
    plugin.onLoad({ filter: /.*/, namespace: 'no-cluster' }, () => ({
      contents: 'exports.default = undefined',
    }))
    plugin.onLoad({ filter: /\/ioredis\/built\/utils\/Commander\.js$/ }, ({ path }) => {
      const source = readFileSync(path, 'utf8')
      const anchor = 'commands.forEach(function (commandName) {'
      if (!source.includes(anchor)) {
        throw new Error(`${path} no longer adds its commands with ${anchor}`)
      }
      const toDictionary =
        'Commander.prototype.toDictionary = 0; delete Commander.prototype.toDictionary;'
      return { contents: source.replace(anchor, `${toDictionary}\n${anchor}`), loader: 'js' }
    })
  },
}

const lazyBuiltinsOf = (name) => ({
  name: 'lazy-builtins',
  setup(plugin) {
    const lazy = new Set(lazyBuiltins[name] ?? [])
    const standIn = standIns[name] ?? {}
    const replaced = Object.keys(standIn).map((path) => path.replaceAll('.', '\\.'))
    if (replaced.length > 0) {
      plugin.onResolve(
        { filter: new RegExp(`^(${replaced.join('|')})$`) },
        ({ path, importer }) => {
          if (!importer.endsWith(standIn[path])) {
            return { path: fileURLToPath(new URL(`../${standIn[path]}`, import.meta.url)) }
          }
          // The stand-in's own require() is Node's module itself, or the package, bundled as usual.
          return isBuiltin(path) ? { path, external: true } : undefined
        },
      )
    }
    plugin.onResolve({ filter: /^(node:)?[a-z_]+$/ }, ({ path, namespace }) => {
      if (!lazy.has(path)) {
        return undefined
      }
      // The lazy module's own require() is Node's module itself.
      return namespace === 'lazy-builtin'
        ? { path, external: true }
        : { path, namespace: 'lazy-builtin' }
    })
    plugin.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path }) => ({
      contents: `let loaded\nmodule.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(path)}))[key] })`,
    }))
  },
})

/**
 * Sends each vendored package to its own bundle. The import becomes a small CommonJS module that
 * requires that bundle, so esbuild's lazy require() reaches it: an import() of the file itself
 * would be left to Node's ES module loader, whose start-up costs more than the package.
 */
const vendorImports = {
  name: 'vendor-imports',
  setup(plugin) {
    const names = new RegExp(`^(${vendored.map((name) => name.replace('/', '\\/')).join('|')})$`)
    plugin.onResolve({ filter: names }, ({ path }) => ({ path, namespace: 'vendor' }))
    // Written as an ES module re-export so that an ES package's default export stays its default
    // (as a CommonJS module, its whole namespace would become the default).
    plugin.onLoad({ filter: /.*/, namespace: 'vendor' }, ({ path }) => {
      const file = JSON.stringify(`./${vendorFile(path)}`)
      return { contents: `export * from ${file}\nexport { default } from ${file}\n` }
    })
    plugin.onResolve({ filter: /^\.\/vendor\// }, ({ path }) => ({ path, external: true }))
    // The ES packages left in node_modules are imported from a file of its own (src/esm-packages.ts).
    plugin.onResolve({ filter: /\/esm-packages\.js$/ }, () => ({
      path: './esm-packages.cjs',
      external: true,
    }))
    // The same for Node's own modules loaded with import(), which esbuild leaves as import()
    // (starting Node's ES module loader for them) unless they go through a module of the bundle.
    plugin.onResolve({ filter: /^node:/ }, ({ path, kind }) =>
      kind === 'dynamic-import' ? { path, namespace: 'node-builtin' } : undefined,
    )
    plugin.onLoad({ filter: /.*/, namespace: 'node-builtin' }, ({ path }) => ({
      contents: `module.exports = require(${JSON.stringify(path)})`,
    }))
  },
}

const cli = {
  ...common,
  format: 'cjs',
  packages: undefined,
  external: [...unbundled],
  plugins: [vendorImports],
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
await Promise.all([
  build({
    ...cli,
    entryPoints: ['src/main.ts'],
    outfile: 'dist/msal-ts.cjs',
    // Minified, as every run reads (and V8 deserialises code for) what it holds; --verbose turns
    // Node's source maps on, so its stack traces still name our source files and lines.
    minify: true,
    sourcemap: true,
    sourcesContent: false,
  }),
  // Minified: V8 reads every byte of it on each cache hit, and it reports no errors of its own
  // (anything it cannot answer goes to the full CLI), so no stack trace ever shows its names.
  build({ ...cli, entryPoints: ['src/token-hit.ts'], outfile: 'dist/token-hit.cjs', minify: true }),
  build({
    ...cli,
    entryPoints: ['src/token-memo.ts'],
    outfile: 'dist/token-memo.cjs',
    minify: true,
  }),
  build({
    ...common,
    format: 'cjs',
    entryPoints: ['src/esm-packages.ts'],
    outfile: 'dist/esm-packages.cjs',
  }),
  build({
    ...cli,
    entryPoints: ['src/compile-cache.ts'],
    outfile: 'dist/compile-cache.cjs',
    minify: true,
  }),
  ...vendored.map((name) =>
    build({
      ...common,
      format: 'cjs',
      packages: undefined,
      // require() of an ES module gives its namespace, which the CLI bundle's imports read as such.
      stdin: {
        contents: vendorEntries[name] ?? `module.exports = require(${JSON.stringify(name)})`,
        resolveDir: '.',
      },
      outfile: `dist/${vendorFile(name)}`,
      plugins: [
        lazyBuiltinsOf(name),
        ownFilesOf(name),
        ...(name === 'ioredis' ? [ioredisStandalone] : []),
      ],
      // Names are kept for --verbose stack traces; spaces and dead branches are not worth parsing.
      minifyWhitespace: true,
      minifySyntax: true,
    }),
  ),
  ...Object.values(ownFiles)
    .flat()
    .map((path) =>
      build({
        ...common,
        format: 'cjs',
        entryPoints: [`node_modules/${path}`],
        outfile: `dist/vendor/${ownFile(path)}`,
      }),
    ),
  build({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/lib/index.js' }),
])
// Node 20's compile cache (src/compile-cache.ts) names the code it keeps after the bundle's content:
// V8 would take code compiled from another build of the same length as its own.
const cjsFiles = readdirSync('dist', { recursive: true })
  .filter((path) => path.endsWith('.cjs'))
  .map((path) => path.replaceAll('\\', '/'))
const digests = Object.fromEntries(
  cjsFiles.map((path) => [
    path,
    createHash('sha256')
      .update(readFileSync(`dist/${path}`))
      .digest('hex')
      .slice(0, 32),
  ]),
)
writeFileSync('dist/compile-keys.json', `${JSON.stringify(digests, null, 2)}\n`)
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'], {
  stdio: 'inherit',
})
