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

/**
 * A host name, an optional port, then a path or nothing; `//` in front as a browser's
 * scheme-relative link. A second `/` right after the host (`HTTPS//h/x`) is a mistyped scheme,
 * not a host, so it matches nothing.
 */
const schemeless = /^(?:\/\/)?([a-z\d][a-z\d.-]*(?::\d+)?(?:\/(?!\/)\S*)?)$/i

/** An authority given without its scheme (`login.microsoftonline.com/contoso`) gets `https://` suggested. */
export function checkAuthorityScheme(text: string | undefined): void {
  if (text === undefined || /^[a-z][a-z\d+.-]*:\/\//i.test(text)) {
    return
  }
  const hostAndPath = schemeless.exec(text)?.[1]
  if (hostAndPath !== undefined && URL.canParse(`https://${hostAndPath}`)) {
    throw new SuggestedUsageError(
      'invalid_authority',
      `the authority ${JSON.stringify(text)} is not a URL: it has no https:// in front`,
      `Did you mean https://${hostAndPath}?`,
    )
  }
}
