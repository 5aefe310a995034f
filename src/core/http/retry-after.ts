/** Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') {
    return undefined
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim())
  }
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}
