#!/usr/bin/env node
// First thing, before oclif and the commands load: a SIGINT or SIGTERM during start-up ends gkr with
// exit 130 (EXIT.INTERRUPTED in src/cli/exit-codes.ts) instead of the signal's default action (exit
// 143, outside gkr's exit codes). Once a command is running it has its own handlers (BaseCommand.init:
// abort, clean up, then exit 130); this one then steps aside. Nothing has been created before that.
import process from 'node:process'
import { URL } from 'node:url'

const early = (sig) => {
  if (process.listenerCount(sig) > 1) return
  process.stderr.write(`\nReceived ${sig} while starting: stopped before doing anything.\n`)
  process.exit(130)
}
process.on('SIGINT', early)
process.on('SIGTERM', early)

// `gkr --version` alone: answered before oclif loads (most of a start-up's cost), in oclif's own format;
// test/cli/startup.test.ts checks it is the same line oclif prints (GKR_NO_FAST_VERSION=1 turns it off).
if (process.argv.length === 3 && process.argv[2] === '--version' && !process.env.GKR_NO_FAST_VERSION) {
  const { readFileSync } = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.oclif?.bin ?? pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
  process.exit(0)
}

// @oclif/core checks the Node version against its own `engines` (>= 18) when it loads, which costs a
// semver load on every start (about 20 ms, measured with --cpu-prof). gkr's floor (package.json
// engines, >= 20.18) is above oclif's, so that check has nothing to say on a Node gkr supports: it is
// skipped, and the variable removed again so that nothing gkr starts (sim containers, kubectl) inherits it.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
// gkr's build bundles @oclif/core into one module (scripts/bundle-oclif.mjs: half the load time of the
// package's ~150 files); the installed package is the fallback for a dist/ built some other way.
const { execute } = await import('../dist/vendor/oclif-core/lib/index.js').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('oclif-core')) throw err
  return import('@oclif/core')
})
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning
await execute({ dir: import.meta.url })

// The command has finished: every command awaits its own work and cleanup before it returns (run-job's
// cleanup, sim start's server, doctor's requests). What is left on the event loop now is only the
// teardown of pooled keep-alive connections, which took 150-240 ms of idle waiting after doctor's last
// line (measured; bench/startup.bench.ts). Flush stdout and stderr (asynchronous on some platforms'
// pipes), then end with the exit code the command set.
const flushed = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit()
