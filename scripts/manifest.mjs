/**
 * Writes oclif.manifest.json after the build: every command's id, flags, args, help texts and the file
 * it lives in, so `gkr --version` and `gkr --help` need import no command, and running a command
 * imports only that command's file (oclif's "pattern" discovery reads the manifest instead of
 * importing every file under dist/commands). Built by oclif itself: the plugin's manifest as oclif
 * computes it when none exists yet. `test/meta/manifest.test.ts` checks it lists exactly the command
 * map of src/index.ts.
 */
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import process from 'node:process'
// The same oclif the built CLI runs (scripts/bundle-oclif.mjs runs first), so the commands it loads and
// the Config that reads them come from one copy.
const { Config } = await import('../dist/vendor/oclif-core/lib/index.js')

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const file = path.join(root, 'oclif.manifest.json')
rmSync(file, { force: true })
const config = await Config.load({ root })
const manifest = config.getPluginsList().find((p) => p.root === root || p.isRoot)?.manifest
if (!manifest || Object.keys(manifest.commands).length === 0) throw new Error('oclif found no commands under dist/commands')
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
process.stdout.write(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands\n`)
