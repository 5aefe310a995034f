import { controlCharacter } from '../kernel/control-characters.js'
import { UsageError } from '../kernel/errors.js'
import { quoted } from '../kernel/quoted.js'

/**
 * Why `value` cannot be the option `name`, or undefined when it can. A JavaScript caller, or one
 * casting past the types, reaches the engine with anything: checked here, it is refused naming the
 * option instead of failing deep inside or going out on the wire as `[object Object]`.
 */
export type Rule = (value: unknown, name: string) => string | undefined

/** One rule per option name: the table of what an options object may hold. */
export type Rules<T> = { readonly [K in keyof Required<T>]: Rule }

/**
 * Refuses an options object that is not a plain object, an option it does not know (suggesting
 * the camelCase name for a snake_case one, as MSAL Python spells them, or where `elsewhere` says
 * the option lives instead), and a value of the wrong shape. Undefined is an option left out.
 */
export function checkOptions<T>(
  name: string,
  options: unknown,
  rules: Rules<T>,
  { prefix = '', elsewhere = {} }: { prefix?: string; elsewhere?: Record<string, string> } = {},
): void {
  if (options === undefined) {
    return
  }
  if (!isPlainObject(options)) {
    throw new UsageError('invalid_option', `${name} must be an object, not ${quoted(options)}`)
  }
  const known: Record<string, Rule | undefined> = rules
  for (const [key, value] of Object.entries(options)) {
    const rule = known[key]
    if (rule === undefined) {
      const camel = key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
      const meant = known[camel] !== undefined ? camel : elsewhere[camel]
      const hint = meant !== undefined ? ` (did you mean ${meant}?)` : ''
      throw new UsageError('unknown_option', `${name} has no option ${quoted(key)}${hint}`)
    }
    const problem = value === undefined ? undefined : rule(value, `${prefix}${key}`)
    if (problem !== undefined) {
      throw new UsageError('invalid_option', `${prefix}${key} ${problem}, not ${quoted(value)}`)
    }
  }
}

/** A positional argument, refused naming it when `rule` finds a problem. */
export function checkArgument(name: string, value: unknown, rule: Rule): void {
  const problem = rule(value, name)
  if (problem !== undefined) {
    throw new UsageError('invalid_argument', `${name} ${problem}, not ${quoted(value)}`)
  }
}

/** Object.entries would read a Map, an array or any class instance as a mapping of something else. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false
  }
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

export const text: Rule = (value) => (typeof value === 'string' ? undefined : 'must be a string')

export const flag: Rule = (value) =>
  typeof value === 'boolean' ? undefined : 'must be true or false'

export const callback: Rule = (value) =>
  typeof value === 'function' ? undefined : 'must be a function'

export const textList: Rule = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? undefined
    : 'must be a list of strings'

/** An id or a name: a blank one would be sent, or matched, as none at all. */
export const nameText: Rule = (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string'

/**
 * Capabilities (CP1), scopes: each one word. A blank one names nothing, and whitespace or a control
 * character would split it into others, or match none, once joined into a claim or a scope string.
 */
export const tokenList: Rule = (value) =>
  Array.isArray(value) &&
  value.every(
    (item) =>
      typeof item === 'string' && item !== '' && !/\s/.test(item) && !controlCharacter.test(item),
  )
    ? undefined
    : 'must be a list of non-empty names without whitespace or control characters'

/** A count of seconds, 0 or more: NaN or a string would compare false with every expiry. */
export const seconds: Rule = (value) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? undefined
    : 'must be a number of seconds, 0 or more'

export const wholeSeconds: Rule = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : 'must be a whole number of seconds, 0 or more'

export const wholeNumber: Rule = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : 'must be a whole number, 0 or more'

export const positiveNumber: Rule = (value) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0
    ? undefined
    : 'must be a positive number'

export const oneOf =
  (...values: readonly string[]): Rule =>
  (value) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : `must be one of ${values.map((v) => quoted(v)).join(', ')}`

export const plainObject: Rule = (value) =>
  isPlainObject(value) ? undefined : 'must be an object of name and value'

/** An object with these methods, as an interface the caller implements (a store, an HTTP client). */
export const withMethods =
  (...methods: readonly string[]): Rule =>
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
      ? undefined
      : `must be an object with ${methods.join(', ')} methods`

/** A nested options object, checked by its own table (a certificate credential's fields). */
export const shape =
  <T>(rules: Rules<T>): Rule =>
  (value, name) => {
    checkOptions(name, value, rules, { prefix: `${name}.` })
    return undefined
  }

/** A value checked elsewhere at construction, with its own error code (timeout, proxies). */
export const checkedApart: Rule = () => undefined
