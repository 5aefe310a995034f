import { UsageError } from '../../core/kernel/errors.js'
import { normalizeScopes, resourceToScope } from '../../core/protocol/scopes.js'

/** `--scope` (repeatable, or space-separated) or `--resource`: exactly one of them. */
export function scopesFrom(
  scopeFlags: readonly string[],
  resourceScope: string | undefined,
): string[] {
  const scopes = normalizeScopes(scopeFlags)
  if (scopes.length > 0 && resourceScope !== undefined) {
    throw new UsageError('conflicting_options', 'give --scope or --resource, not both')
  }
  if (resourceScope !== undefined) {
    return [resourceScope]
  }
  if (scopes.length === 0) {
    throw new UsageError(
      'missing_scope',
      'a scope is required: pass --scope <scope> or --resource <uri>',
    )
  }
  return scopes
}

/** `--resource`, trimmed; an empty one would ask for the scope "/.default". */
export function resourceGiven(resource: string): string {
  const trimmed = resource.trim()
  if (!trimmed) {
    throw new UsageError('missing_resource', '--resource is empty')
  }
  return trimmed
}

/** The `.default` scope of `--resource`, when it is given. */
export function resourceScope(resource: string | undefined): string | undefined {
  return resource === undefined ? undefined : resourceToScope(resourceGiven(resource))
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new UsageError('invalid_json', `${what} is not valid JSON`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('invalid_json', `${what} must be a JSON object`)
  }
  return parsed as Record<string, unknown>
}
