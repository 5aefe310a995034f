import { controlCharacter } from './control-characters.js'

const controlCharacters = new RegExp(controlCharacter.source, 'g')

/**
 * A value from outside, for an error line: as JSON, so `"soon"` and `1e+21` show what they are;
 * control characters as `?` and cut at `maxLength`, so a hostile value can neither drive the
 * terminal nor flood the line.
 */
export function quoted(value: unknown, { maxLength = 200 }: { maxLength?: number } = {}): string {
  const text = shown(value).replace(controlCharacters, '?')
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text
}

/**
 * JSON would show NaN and Infinity as `null`, throw on a bigint or a cycle, print a Map as `{}`
 * and leave out a function: these are named by what they are instead.
 */
function shown(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return String(value)
    case 'bigint':
      return `${value}n`
    case 'function':
    case 'symbol':
      return `a ${typeof value}`
    case 'object':
      return value === null || isPlain(value) ? jsonOr(value, 'an object') : `a ${kindOf(value)}`
    default:
      return jsonOr(value, String(value))
  }
}

function isPlain(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === Array.prototype || prototype === null
}

function kindOf(value: object): string {
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'object'
}

function jsonOr(value: unknown, fallback: string): string {
  try {
    return JSON.stringify(value) ?? fallback
  } catch {
    return fallback
  }
}
