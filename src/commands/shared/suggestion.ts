import { UsageError } from '../../core/kernel/errors.js'

/**
 * A usage error with a likely fix, which the CLI prints on a second line as commander prints its
 * own ("(Did you mean token?)"), per cli.md "Exit codes".
 */
export class SuggestedUsageError extends UsageError {
  readonly suggestion: string

  constructor(code: string, message: string, suggestion: string) {
    super(code, message)
    this.suggestion = suggestion
  }
}

/** An authority given without its scheme (`login.microsoftonline.com/contoso`) gets `https://` suggested. */
export function checkAuthorityScheme(text: string | undefined): void {
  if (text === undefined || /^[a-z][a-z\d+.-]*:\/\//i.test(text)) {
    return
  }
  if (URL.canParse(`https://${text}`)) {
    throw new SuggestedUsageError(
      'invalid_authority',
      `the authority ${JSON.stringify(text)} is not a URL: it has no https:// in front`,
      `Did you mean https://${text}?`,
    )
  }
}
