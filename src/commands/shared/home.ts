/**
 * The user's home directory. On POSIX os.homedir() answers $HOME when it is set, so that is read
 * here without loading node:os, a third of a millisecond of every cached `token`; on Windows, or
 * without HOME, Node answers.
 */
export function userHome(): string {
  const home = process.env['HOME']
  return process.platform !== 'win32' && home ? home : process.getBuiltinModule('node:os').homedir()
}
