import { type LogEvent, type Logger, redact } from '../../core/kernel/log.js'
import type { LogLevel } from './settings.js'
import { type Io, sayLabelled, warn } from './io.js'

const levels: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

function levelOf(event: LogEvent): LogLevel {
  switch (event.kind) {
    case 'warning':
      return 'warn'
    case 'retry':
      return 'info'
    default:
      return 'debug'
  }
}

function render(event: LogEvent): string {
  switch (event.kind) {
    case 'http':
      return `http ${event.method} ${event.url} ${event.status ?? event.error ?? ''} ${event.ms} ms (attempt ${event.attempt})`
    case 'retry':
      return `retrying ${event.url} after ${event.waitMs} ms: ${event.reason}`
    case 'cache':
      return `cache ${event.op}: ${event.detail}`
    case 'discovery':
      return `discovery ${event.url} from ${event.source}`
    case 'warning':
      return event.message
  }
}

/** The stderr sink: events at or above the level, redacted unless --pii. */
export function stderrLogger(
  io: Io,
  { logLevel: level, pii }: { logLevel: LogLevel; pii: boolean },
): Logger {
  return (event) => {
    const eventLevel = levelOf(event)
    if (levels[eventLevel] > levels[level]) {
      return
    }
    const line = pii ? render(event) : redact(render(event))
    if (eventLevel === 'warn') {
      warn(io, line)
    } else {
      sayLabelled(io, eventLevel, line)
    }
  }
}
