/**
 * `npx tsx scripts/trace-doctor.ts [scenario] [rtt-ms]`: runs the built `gkr doctor --as-runner` against
 * the simulator behind a delay proxy and prints every request the server answered, with its time in
 * round trips since the command started — to see which requests wait for which.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { start } from '../src/sim/index.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const scenario = process.argv[2] ?? 'rbac-missing-attach'
const RTT = Number(process.argv[3] ?? 100)
const sim = await start(scenario, { rttMs: RTT })
const t0 = Date.now()
await new Promise((resolve) => spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], { env: { ...process.env, KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, stdio: 'ignore' }).on('close', resolve))
const rt = (ms: number): string => (ms / RTT).toFixed(1).padStart(6)
process.stdout.write(`${scenario} at ${RTT} ms RTT: ${rt(Date.now() - t0)} RTT in all (process start included), proxy saw ${JSON.stringify(sim.network())}\n`)
for (const e of sim.audit) process.stdout.write(`${rt(Date.parse(e.time) - t0)}  ${e.verb.padEnd(8)} ${e.requestURI.slice(0, 110)}${e.dryRun ? '  (dry-run)' : ''}\n`)
await sim.stop()
