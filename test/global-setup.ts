import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * End-to-end tests spawn bin/run.js, which runs dist/: build it once before the suite.
 * tsc emits even when a file has type errors; those are reported by `npm run typecheck`, which
 * runs before the tests in `npm test`, so the build here does not gate the suite.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0 && !process.env.CI) process.stderr.write(`global setup: tsc reported type errors (see npm run typecheck)\n`)
}
