import type { ClientApplication } from '../../core/clients/application.js'
import type { ConfidentialClientApplication } from '../../core/clients/confidential-client.js'
import type { PublicClientApplication } from '../../core/clients/public-client.js'
import type { ManagedIdentityId } from '../../core/managed-identity/sources.js'
import type { ConfidentialAppOptions } from './confidential-app.js'
import type { CredentialFlags } from './app-identity-options.js'
import type { Io } from './io.js'
import type { ManagedIdentityApp } from './managed-identity-app.js'
import type { Prompter } from './prompter.js'
import type { CommonFlags, CommonSettings } from './settings.js'

/**
 * How a command gets its applications. The registry's loads the engine only when a command asks;
 * unit tests hand in fakes, so a command runs without a provider or a cache.
 */
export interface AppFactory {
  /** A public client for a person's commands; `cacheOnly` for those that send no request. */
  publicApp(flags: CommonFlags, options?: { cacheOnly?: boolean }): Promise<PublicClientApplication>
  /** Runs `use` with a confidential client when a credential is given, a public one otherwise. */
  withWebApp<T>(
    flags: CommonFlags & CredentialFlags,
    use: (app: ClientApplication) => Promise<T>,
  ): Promise<T>
  confidentialApp(
    settings: CommonSettings,
    options: ConfidentialAppOptions,
  ): Promise<ConfidentialClientApplication>
  /** The machine's managed identity: `id`, or the system-assigned one. */
  managedIdentityApp(
    settings: CommonSettings,
    id: ManagedIdentityId | undefined,
  ): Promise<ManagedIdentityApp>
}

/**
 * Opens the sign-in page, or only prints its URL when `browser` is false; `fixedPort` says the
 * person chose the redirect port, so the advice need not tell how to.
 */
export type SignInPageOpener = (
  url: string,
  options: { browser: boolean; fixedPort: boolean },
) => Promise<void>

/** Everything a command reaches outside itself, as cli/cli passes it: one object, set by the registry. */
export interface CommandDeps {
  io: Io
  apps: AppFactory
  prompter: Prompter
  openSignInPage: SignInPageOpener
}
