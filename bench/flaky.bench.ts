/**
 * doctor against a flaky API server (scenario apiserver-flaky: a third of the lists fail with an etcd
 * error and are tried again) next to the same doctor against a healthy one, both behind the same
 * round-trip delay. Issue 15's target: the retries overlap with the rest of the gathering instead of
 * running one after another, and doctor stays within 2× of the healthy run.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { start } from '../src/sim/index.js'
import { run } from './doctor.bench.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = 3

interface Stats { requests: number; retries?: number; durationMs: number; roundTrips: number }

async function doctorOn(scenario: string, rtt: number): Promise<{ wallMs: number; stats: Stats; serverRequests: number }> {
  const sim = await start(scenario, { rttMs: rtt })
  try {
    const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1' }
    const runs: Array<{ wallMs: number; stats: Stats; serverRequests: number }> = []
    for (let i = 0; i < RUNS; i++) {
      const before = sim.audit.length
      const t0 = performance.now()
      const r = await run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], env)
      const wallMs = performance.now() - t0
      const stats = (JSON.parse(r.stdout) as { result: { stats: Stats } }).result.stats
      runs.push({ wallMs, stats, serverRequests: sim.audit.length - before })
    }
    // The median run by wall time: the fault injection is random, so one run says little.
    return runs.sort((a, b) => a.wallMs - b.wallMs)[Math.floor(RUNS / 2)]!
  } finally {
    await sim.stop()
  }
}

export default async function bench(): Promise<void> {
  const RTT = Number(process.env.GKR_BENCH_RTT ?? 100)
  const healthy = await doctorOn('healthy', RTT)
  const flaky = await doctorOn('apiserver-flaky', RTT)
  console.log(`round-trip time: ${RTT} ms (delay proxy); median of ${RUNS} doctor runs each`)
  for (const [name, m] of [['healthy', healthy], ['apiserver-flaky', flaky]] as const) {
    console.log(`${name.padEnd(16)} ${Math.round(m.wallMs)} ms wall; gathering ${Math.round(m.stats.durationMs)} ms = ${(m.stats.durationMs / RTT).toFixed(1)} round trips, critical path ${m.stats.roundTrips} request(s) deep; ${m.serverRequests} requests at the server, ${m.stats.retries ?? 0} retries`)
  }
  console.log(`ratio: flaky takes ${(flaky.wallMs / healthy.wallMs).toFixed(2)}× the healthy wall time (target ≤ 2×); gathering ${(flaky.stats.durationMs / healthy.stats.durationMs).toFixed(2)}×`)
}
