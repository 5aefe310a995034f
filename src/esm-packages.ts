/**
 * The packages msal-ts leaves in node_modules, both ES modules, imported from a file of their own
 * (dist/esm-packages.cjs for the CLI): on Node 20, code taken from the compile cache
 * (compile-cache.ts) loses the means to import(), so the bundles it caches hold no import().
 */
export const browserOpener = () => import('open')
export const prompts = () => import('@inquirer/prompts')
