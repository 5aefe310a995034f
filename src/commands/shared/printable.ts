/**
 * Characters that act on a terminal instead of showing: C0 and C1 controls and DEL (escape
 * sequences, CR, LF, BEL...), the bidi controls that reorder what is shown (Trojan Source), and the
 * Unicode line and paragraph separators some terminals and viewers break lines at.
 */
// The characters spelt out rather than as Unicode properties (\p{Cc}, \p{Bidi_Control}): V8 checks
// a property pattern when it parses the file, which cost every run that loads this module about a
// millisecond, used or not. Bidi_Control is this fixed set since Unicode 6.3.
const unprintable =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g

/**
 * Text from outside as it may reach a terminal: every such character shown as a `\uXXXX` escape,
 * so it can neither drive the terminal nor start a line of its own; other text (any script, emoji)
 * is kept as is.
 */
export function printable(text: string): string {
  return text.replace(
    unprintable,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** Text of several lines of our own (command-line framework output): each line made printable. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n')
}

/**
 * A JSON document for stdout, still JSON and the same value, with DEL, C1, bidi controls and line
 * separators written as `\uXXXX` escapes (JSON.stringify escapes only C0): piped to a terminal or
 * a viewer, a field from outside cannot drive it.
 */
export function jsonText(value: unknown): string {
  return `${printableLines(JSON.stringify(value, null, 2))}\n`
}
