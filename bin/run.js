#!/usr/bin/env node
// First thing, before oclif and the commands load: a SIGINT or SIGTERM during start-up ends gkr with
// exit 130 (EXIT.INTERRUPTED in src/cli/exit-codes.ts) instead of the signal's default action (exit
// 143, outside gkr's exit codes). Once a command is running it has its own handlers (BaseCommand.init:
// abort, clean up, then exit 130); this one then steps aside. Nothing has been created before that.
import process from 'node:process'

const early = (sig) => {
  if (process.listenerCount(sig) > 1) return
  process.stderr.write(`\nReceived ${sig} while starting: stopped before doing anything.\n`)
  process.exit(130)
}
process.on('SIGINT', early)
process.on('SIGTERM', early)

const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
