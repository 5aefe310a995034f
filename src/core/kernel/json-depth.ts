/**
 * How deep a JSON document (the token cache, the HTTP cache) may nest. MSAL's documents go four
 * levels down; one nested thousands deep parses, then makes JSON.stringify throw RangeError, and a
 * store could never write its file again.
 */
export const maxJsonDepth = 64

/** Whether `value` nests deeper than `maxJsonDepth`: counted without recursion, as that is the risk. */
export function nestsTooDeep(value: unknown): boolean {
  let level: unknown[] = [value]
  for (let depth = 0; level.length > 0; depth += 1) {
    if (depth > maxJsonDepth) {
      return true
    }
    level = level.flatMap((item): unknown[] =>
      typeof item === 'object' && item !== null ? Object.values(item) : [],
    )
  }
  return false
}
