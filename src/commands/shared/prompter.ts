import { UsageError } from '../../core/kernel/errors.js'
import type { Io } from './io.js'

/** What a command may ask a person; unit tests give commands a scripted one. */
export interface Prompter {
  /** Whether anyone can be asked: stdin and stderr are a terminal. */
  canPrompt(): boolean
  select<T>(message: string, choices: { name: string; value: T }[]): Promise<T>
  confirm(message: string): Promise<boolean>
  password(message: string): Promise<string>
}

/**
 * Prompts on the process's terminal. What shows them (terminal-prompts.ts, and @inquirer/prompts
 * through dist/esm-packages.cjs) loads only when a prompt is shown: every run builds a prompter,
 * and loading that file cost each run, help included, a millisecond.
 */
export function terminalPrompter(io: Io): Prompter {
  const prompts = () => import('./terminal-prompts.js')
  return {
    canPrompt: () => canPrompt(io),
    select: async (message, choices) => {
      if (!canPrompt(io)) {
        throw new UsageError('not_a_terminal', `${message}: no terminal to ask on`)
      }
      return (await prompts()).select(io, message, choices)
    },
    confirm: async (message) => (await prompts()).confirm(io, message),
    password: async (message) => (await prompts()).password(io, message),
  }
}

/** The same prompter, for commands that run with no one to ask (git's helper, a background server). */
export function withoutPrompts(prompter: Prompter): Prompter {
  return { ...prompter, canPrompt: () => false }
}

function canPrompt(io: Io): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true
}
