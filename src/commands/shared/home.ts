import type * as Os from 'node:os'
import { isAbsolute, join } from 'node:path'
import { UsageError } from '../../core/kernel/errors.js'

/**
 * The user's home directory: $HOME when it is an absolute path, read here without loading node:os
 * (a third of a millisecond of every cached `token`); otherwise the account's own, as the system
 * keeps it. An empty or relative HOME would put the config and caches under whatever directory
 * msal-ts runs in, where a cloned repository could plant a config naming its own authority.
 */
export function userHome(): string {
  const home = process.env['HOME']
  if (process.platform !== 'win32' && home && isAbsolute(home)) {
    return home
  }
  const os = process.getBuiltinModule('node:os')
  const found = process.platform === 'win32' ? os.homedir() : accountHome(os)
  if (!found || !isAbsolute(found)) {
    throw new UsageError(
      'no_home',
      'cannot tell the home directory: set HOME to an absolute path (or MSAL_TS_CONFIG_DIR and MSAL_TS_CACHE_DIR)',
    )
  }
  return found
}

function accountHome(os: typeof Os): string | undefined {
  try {
    return os.userInfo().homedir
  } catch {
    // No account entry for this uid (a container's arbitrary user).
    return undefined
  }
}

/**
 * An XDG base directory: the variable when it holds an absolute path (the XDG spec has relative
 * ones ignored), else its default under the home directory.
 */
export function xdgBase(value: string | undefined, underHome: string): string {
  return value && isAbsolute(value) ? value : join(userHome(), underHome)
}
