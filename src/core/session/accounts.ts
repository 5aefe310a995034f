import type { AppContext } from './app-context.js'
import { accountOf, accountsIn } from '../token-cache/lookup.js'
import type { Account } from '../protocol/result.js'
import { fetchOnce, loadCache, updateCache } from './single-flight.js'

export async function accountsFor(app: AppContext, username?: string): Promise<Account[]> {
  await loadCache(app)
  return accountsIn(app.tokenCache, app.authority.instance, username)
}

/** The cached account of a home account, preferably its entry in `realm`. */
export function accountIn(
  app: AppContext,
  homeAccountId: string,
  realm: string,
): Account | undefined {
  const entries = app.tokenCache
    .accounts(app.authority.instance)
    .filter((a) => a.home_account_id === homeAccountId)
  const entry = entries.find((a) => a.realm === realm) ?? entries[0]
  return entry && accountOf(entry)
}

export async function signOut(
  app: AppContext,
  account: Pick<Account, 'home_account_id' | 'environment'>,
): Promise<void> {
  await fetchOnce(
    app,
    () => undefined,
    () => Promise.resolve(app.tokenCache.removeAccount(account, app.clientId)),
    { mustPersist: true },
  )
}

export async function removeClientTokens(app: AppContext): Promise<void> {
  await updateCache(app, () => {
    app.tokenCache.removeClientTokens(app.clientId, [app.authority.instance])
    return Promise.resolve()
  })
}
