/** What went wrong with a file, in words, and whose it is to fix. */
import { UnsafeFile } from './safe-file.js'

/** Problems the user must fix (wrong path, permissions) are usage errors; the rest are runtime. */
const usageCodes: Record<string, string> = {
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'path too long',
}

const runtimeCodes: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EBUSY: 'resource busy',
  ENOENT: 'no such file or directory',
}

/**
 * A file operation's failure as a line can say it: the reason in words (never Node's message,
 * which names paths the caller did not give, such as a temporary file's), and whether the user
 * can fix it (a usage error) or it is the machine's (a runtime failure).
 */
export function fileProblem(error: unknown): { usage: boolean; reason: string } {
  const code = errorCode(error)
  const usage = code === undefined ? undefined : usageCodes[code]
  if (usage !== undefined) {
    return { usage: true, reason: usage }
  }
  return {
    usage: false,
    reason: (code === undefined ? undefined : runtimeCodes[code]) ?? code ?? 'unexpected error',
  }
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) {
    return undefined
  }
  return typeof error.code === 'string' ? error.code : undefined
}

/** Why a file could not be used, in words: a refusal's own reason, or the system's error's. */
export function fileReason(error: unknown): string {
  return error instanceof UnsafeFile ? error.reason : fileProblem(error).reason
}
