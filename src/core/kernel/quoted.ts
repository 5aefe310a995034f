import { controlCharacter } from './control-characters.js'

const controlCharacters = new RegExp(controlCharacter.source, 'g')

/**
 * A value from outside, for an error line: as JSON, so `"soon"` and `1e+21` show what they are;
 * control characters as `?` and cut at `maxLength`, so a hostile value can neither drive the
 * terminal nor flood the line.
 */
export function quoted(value: unknown, { maxLength = 200 }: { maxLength?: number } = {}): string {
  const text = (JSON.stringify(value) ?? String(value)).replace(controlCharacters, '?')
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text
}
