/**
 * The one table of gkr's exit codes. Commands never pick numbers themselves: they name a row.
 * docs/exit-codes.md and the README are generated from this table.
 */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  INCOMPLETE: 3,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const

export type ExitCodeName = keyof typeof EXIT
export type ExitCode = (typeof EXIT)[ExitCodeName]

export const EXIT_CODE_DOCS: ReadonlyArray<{ code: ExitCode; name: ExitCodeName; meaning: string }> = [
  { code: EXIT.OK, name: 'OK', meaning: 'Nothing failed: every check passed (or only reported below --fail-on), the job succeeded, the text matched a catalog entry.' },
  { code: EXIT.FAILED, name: 'FAILED', meaning: 'A check failed (at or above --fail-on), a required permission is missing, the job failed, or explain found nothing it knows.' },
  { code: EXIT.USAGE, name: 'USAGE', meaning: 'Bad input: an unknown flag or argument, a file that cannot be read or parsed (the message names file, line and column), an invalid value.' },
  { code: EXIT.INCOMPLETE, name: 'INCOMPLETE', meaning: 'gkr could not complete: the cluster or GitLab is unreachable, TLS or authentication failed, a request timed out, a stream to the job pod was lost, or run-job could not delete everything it created (what is left is listed, with the kubectl command that removes it).' },
  { code: EXIT.INTERNAL, name: 'INTERNAL', meaning: 'A bug in gkr. Run again with --debug and report the stack trace.' },
  { code: EXIT.INTERRUPTED, name: 'INTERRUPTED', meaning: 'Interrupted (Ctrl-C or SIGTERM) after cleaning up what gkr had created. An interrupt wins over exit 3: if cleanup could not delete everything, the code is still 130 and the error on stderr names what is left, with the kubectl command that removes it.' },
]
