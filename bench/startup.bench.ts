/**
 * Start-up cost of the built CLI (bin/run.js → dist/): the median wall time of short commands that
 * never reach a cluster, next to a bare `node` start and the import of the Kubernetes client alone.
 * The client, undici and the simulator are loaded only by the commands that use them.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// GKR_BIN compares another build (e.g. an older checkout's bin/run.js) on the same machine.
const BIN = process.env.GKR_BIN ?? path.join(ROOT, 'bin', 'run.js')
const RUNS = 7

function medianMs(args: string[]): number {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } })
    times.push(performance.now() - t0)
    if (r.error) throw r.error
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!
}

export default function bench(): Promise<void> {
  const rows: Array<[string, string[]]> = [
    ['node (bare start, for reference)', ['-e', '']],
    ['import @kubernetes/client-node alone', ['--input-type=module', '-e', "await import('@kubernetes/client-node')"]],
    ['import the client as gkr does (one bundled file)', ['--input-type=module', '-e', `await import(${JSON.stringify(path.join(ROOT, 'dist', 'kube', 'client-node.js'))})`]],
    ['gkr --version', [BIN, '--version']],
    ['gkr explain "<message>"', [BIN, 'explain', 'ERROR: Job failed (system failure): timed out waiting for pod to start']],
    ['gkr doctor --offline -c examples/config.toml', [BIN, 'doctor', '--offline', '-c', 'examples/config.toml']],
    ['gkr render -c examples/config.toml', [BIN, 'render', '-c', 'examples/config.toml']],
  ]
  console.log(`median of ${RUNS} runs each (wall time, this machine)`)
  for (const [name, args] of rows) console.log(`${name.padEnd(48)} ${Math.round(medianMs(args)).toString().padStart(6)} ms`)
  return Promise.resolve()
}
