import process from 'node:process'
import type { Hook } from '@oclif/core'
import { formatErrorParagraph, JSON_SCHEMA_VERSION } from '../base-command.js'
import { displayId } from '../suggest.js'
import { unknownCommandError } from '../unknown-command.js'

/**
 * A mistyped command: one paragraph naming the nearest commands and exit 2, on a terminal or not
 * (no interactive prompt, so scripts and people get the same answer); the JSON envelope with --json.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const err = unknownCommandError(opts.config, opts.id)
  const argv = opts.argv ?? []
  const end = argv.indexOf('--')
  if (argv.slice(0, end === -1 ? undefined : end).includes('--json')) {
    const envelope = { schemaVersion: JSON_SCHEMA_VERSION, command: displayId(opts.id), exitCode: err.exit, warnings: [], error: { code: err.code, message: err.message, suggestions: err.suggestions } }
    process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
  } else process.stderr.write(`${formatErrorParagraph(err)}\n`)
  this.exit(err.exit)
}

export default hook
