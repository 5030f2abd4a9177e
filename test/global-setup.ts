import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let max = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    max = Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return max
}

/**
 * End-to-end tests spawn bin/run.js, which runs dist/: build it (as `npm run build` does) before the suite unless dist/ is
 * already newer than every source file (npm ci has just built it through `prepare`, so CI skips the
 * second build). tsc emits even when a file has type errors; those are reported by `npm run typecheck`,
 * which runs before the tests in `npm test`, so the build here does not gate the suite.
 */
export default function setup(): () => void {
  // Every temporary file of the run (tests' own folders, spawned CLIs', the simulator's pod folders) goes
  // under one folder that is removed when the run ends, so a test that forgets to clean up leaves nothing.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gkr-test-run-'))
  process.env.TMPDIR = tmp
  const teardown = (): void => rmSync(tmp, { recursive: true, force: true })
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  let built = 0
  try {
    built = statSync(path.join(root, 'dist', 'index.js')).mtimeMs
  } catch {
    // not built yet
  }
  if (built > Math.max(newest(path.join(root, 'src')), statSync(path.join(root, 'tsconfig.json')).mtimeMs)) return teardown
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0 && !process.env.CI) process.stderr.write(`global setup: tsc reported type errors (see npm run typecheck)\n`)
  // The rest of `npm run build`: the bundled client (the CLI loads it) and oclif's manifest.
  for (const script of ['bundle-client.mjs', 'bundle-oclif.mjs', 'manifest.mjs']) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', script)], { cwd: root, encoding: 'utf8' })
    if (b.status !== 0) throw new Error(`global setup: scripts/${script} failed:\n${b.stderr}`)
  }
  return teardown
}
