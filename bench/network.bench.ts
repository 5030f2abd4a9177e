/**
 * doctor on a link with a real round-trip time: the simulator behind a TCP delay proxy, so every TCP
 * and TLS handshake and every request costs what it costs on a network. Reports what was measured —
 * wall time in round trips, connections the proxy accepted, requests the server answered — next to
 * the kubectl checklist over the same link. Issue 15's target: doctor ≤ 4 round trips of wall time on
 * the critical path and ≥ 10× faster than the checklist.
 */
import { start } from '../src/sim/index.js'
import { measure } from './doctor.bench.js'

export default async function bench(): Promise<void> {
  const RTT = Number(process.env.GKR_BENCH_RTT ?? 100)
  const sim = await start('rbac-missing-attach', { rttMs: RTT })
  try {
    const m = await measure(sim)
    const gathering = m.stats.durationMs
    console.log(`round-trip time:   ${RTT} ms (delay proxy: handshakes and requests both pay it)`)
    console.log(`gkr doctor:        ${Math.round(m.doctorMs)} ms wall; ${Math.round(gathering)} ms gathering = ${(gathering / RTT).toFixed(1)} round trips; ${Math.round(m.doctorTailMs)} ms from its last output to its exit`)
    console.log(`                   ${m.serverRequests} requests over ${m.connections} connections (measured at the server and the proxy)`)
    console.log(`                   doctor's own report claims ${m.stats.requests} requests in ${m.stats.roundTrips} phases`)
    console.log(`kubectl checklist: ${Math.round(m.kubectlMs)} ms wall for ${m.kubectlCommands} commands over ${m.kubectlConnections} connections`)
    console.log(`ratio:             kubectl checklist takes ${(m.kubectlMs / m.doctorMs).toFixed(1)}× as long as gkr doctor`)
  } finally {
    await sim.stop()
  }
}
