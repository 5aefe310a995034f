/** The prompts a terminalPrompter shows (prompter.ts), with @inquirer/prompts. */
import { CancelledError } from '../../core/kernel/errors.js'
import type { Io } from './io.js'
import { printable } from './printable.js'
import { prompts } from '../../esm-packages.js'

function context(io: Io) {
  return { input: io.stdin, output: io.stderr, ...(io.signal ? { signal: io.signal } : {}) }
}

const plain = (text: string): string => text

/**
 * The prompts' own styles without colour. Inquirer decides colour for itself (NO_COLOR, a
 * terminal), so without colour on stderr for msal-ts (--no-color among the reasons) every style
 * it would colour is replaced, keeping its marks and brackets.
 */
const colourlessTheme = {
  prefix: { idle: '?', done: '✔' },
  style: {
    answer: plain,
    message: plain,
    error: (text: string) => `> ${text}`,
    defaultAnswer: (text: string) => `(${text})`,
    help: plain,
    highlight: plain,
    key: (text: string) => `<${text}>`,
    disabled: (text: string) => `- ${text}`,
    description: plain,
    keysHelpTip: (keys: [key: string, action: string][]) =>
      keys.map(([key, action]) => `${key} ${action}`).join(' • '),
  },
}

/** Inquirer's own theme where msal-ts colours stderr, the colourless one elsewhere. */
function theme(io: Io): { theme?: typeof colourlessTheme } {
  return io.colours?.stderr ? {} : { theme: colourlessTheme }
}

/** Ctrl-C inside a prompt is a cancellation (exit 130), not a crash. */
async function asked<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question()
  } catch (error) {
    const name = (error as Error).name
    if (name === 'ExitPromptError' || name === 'AbortPromptError') {
      throw new CancelledError()
    }
    throw error
  }
}

/**
 * Every prompt's words, usernames from the cache among them, reach the terminal made printable.
 * The caller has checked that there is a terminal to ask on.
 */
export async function select<T>(
  io: Io,
  message: string,
  choices: { name: string; value: T }[],
): Promise<T> {
  const { select: ask } = await prompts()
  const shown = choices.map((choice) => ({ ...choice, name: printable(choice.name) }))
  return asked(() =>
    ask({ message: printable(message), choices: shown, ...theme(io) }, context(io)),
  )
}

export async function confirm(io: Io, message: string): Promise<boolean> {
  const { confirm: ask } = await prompts()
  return asked(() =>
    ask({ message: printable(message), default: false, ...theme(io) }, context(io)),
  )
}

export async function password(io: Io, message: string): Promise<string> {
  const { password: ask } = await prompts()
  return asked(() => ask({ message: printable(message), mask: true, ...theme(io) }, context(io)))
}
