import { EXIT, type ExitCode } from '../cli/exit-codes.js'

/** Where a problem comes from: a file position, a flag, or a key path in a config file. */
export interface Location {
  file?: string
  line?: number
  column?: number
  /** Key path inside the file, e.g. `runners[0].kubernetes.poll_timeout`. */
  path?: string
  /** A command-line flag, e.g. `--config`. */
  flag?: string
}

export function formatLocation(at: Location | undefined): string {
  if (!at) return ''
  if (at.flag) return at.flag
  let s = at.file ?? ''
  if (at.line !== undefined) s += `:${at.line}${at.column !== undefined ? `:${at.column}` : ''}`
  if (at.path) s += s ? ` (${at.path})` : at.path
  return s
}

export interface GkrErrorOptions {
  exit?: ExitCode
  suggestions?: string[]
  /** Catalog id or documentation link that explains this error. */
  ref?: string
  at?: Location
  cause?: unknown
}

/**
 * The one error type library code throws for problems a user can act on.
 * `code` is stable (kebab-case) and appears in the JSON envelope.
 */
export class GkrError extends Error {
  readonly code: string
  readonly exit: ExitCode
  readonly suggestions: string[]
  readonly ref?: string
  readonly at?: Location

  constructor(code: string, message: string, opts: GkrErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'GkrError'
    this.code = code
    this.exit = opts.exit ?? EXIT.USAGE
    this.suggestions = opts.suggestions ?? []
    this.ref = opts.ref
    this.at = opts.at
  }
}

export const usageError = (code: string, message: string, opts: Omit<GkrErrorOptions, 'exit'> = {}): GkrError =>
  new GkrError(code, message, { ...opts, exit: EXIT.USAGE })

export const incompleteError = (code: string, message: string, opts: Omit<GkrErrorOptions, 'exit'> = {}): GkrError =>
  new GkrError(code, message, { ...opts, exit: EXIT.INCOMPLETE })
