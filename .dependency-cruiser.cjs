// The import rules `npm run lint` checks (dependency-cruiser): no circles, type-only imports
// included, and the engine's layers importing only downward.

/** src/core's layers, lowest first: each may import only those before it. */
const layers = [
  'kernel', // errors, clock, log, JSON store, safe files: needs nothing of ours
  'http', // the HTTP client, its cache, retry-after, CA files, URL checks
  'loopback', // the local listener a browser redirects to
  'storage', // where a cache is kept: file or Redis
  'authority', // authority URLs, discovery, issuer, region
  'credentials', // how a client proves who it is; the PoP key
  'protocol', // scopes, ID tokens, PKCE, PoP, token answers, client_info
  'grants', // each grant: build the request, send it, check the answer
  'managed-identity', // the managed identity sources: the same, per source
  'token-cache', // the cache's entries and how they are found
  'session', // single flight, silent, accounts: the only writer of the cache
  'clients', // the public classes
]

const upward = layers.flatMap((layer, index) => {
  const above = layers.slice(index + 1)
  return above.length === 0
    ? []
    : [
        {
          name: `layer-${layer}`,
          severity: 'error',
          comment: `src/core/${layer}/ may import only lower layers (${layers.slice(0, index).join(', ') || 'none'})`,
          from: { path: `^src/core/${layer}/` },
          to: { path: `^src/core/(${above.join('|')})/` },
        },
      ]
})

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'modules that import each other, even for types only, cannot be read or tested apart',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'core-in-layers',
      severity: 'error',
      comment: `every file of src/core/ lives in one of its layers (${layers.join(', ')}); index.ts is the library's entry`,
      from: { path: '^src/core/', pathNot: `^src/core/(index\\.ts$|(${layers.join('|')})/)` },
      to: {},
    },
    {
      name: 'core-without-entry',
      severity: 'error',
      comment: 'the layers never import the library entry, which imports them',
      from: { path: '^src/core/[^/]+/' },
      to: { path: '^src/core/index\\.ts$' },
    },
    {
      name: 'core-without-cli',
      severity: 'error',
      comment: 'the engine is a library: it never imports the CLI',
      from: { path: '^src/core/' },
      to: { path: '^src/(?!core/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
