/**
 * doctor's request pattern on a link with a real round-trip time (the delay proxy in front of the
 * simulator: handshakes and requests both pay it). The depth doctor reports is measured from the
 * requests' own start and end times, so these figures are what happened, not what the code claims.
 */
import { describe, expect, it } from 'vitest'
import Doctor from '../../src/commands/doctor.js'
import { start } from '../../src/sim/index.js'
import { runCommand } from '../helpers/run-command.js'

const RTT = 80

interface Stats {
  requests: number
  roundTrips: number
  connections: number
  durationMs: number
}

async function doctorStats(scenario: string, args: string[] = []): Promise<{ stats: Stats; proxyConnections: number; serverRequests: number }> {
  const sim = await start(scenario, { rttMs: RTT })
  try {
    const before = sim.audit.filter((e) => !e.path.startsWith('/api/v4/')).length
    const r = await runCommand(Doctor, ['--as-runner', '--json', ...args], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
    const stats = (JSON.parse(r.stdout) as { result: { stats: Stats } }).result.stats
    return { stats, proxyConnections: sim.network()!.connections, serverRequests: sim.audit.filter((e) => !e.path.startsWith('/api/v4/')).length - before }
  } finally {
    await sim.stop()
  }
}

describe('doctor on a link with a real round-trip time', () => {
  it('reads, reviews access and dry-runs in one wave: critical path one request deep', async () => {
    const { stats, serverRequests, proxyConnections } = await doctorStats('rbac-missing-attach')
    // The counts doctor reports are the server's own (nothing double-counted, nothing claimed).
    expect(stats.requests).toBe(serverRequests)
    expect(stats.requests).toBeGreaterThan(30)
    expect(stats.roundTrips).toBe(1)
    // The API server speaks HTTP/2 (as kube-apiserver does): every request is a stream on one
    // connection, counted by gkr and, independently, by the proxy the connections went through: one
    // for the API server and one for GitLab's three probes (the simulator serves both).
    expect(stats.connections).toBe(1)
    expect(proxyConnections).toBe(2)
    // Wall time is measured in `npm run bench -- network`, not asserted here (tests do not time things).
  })

  it('a read that needs another read first (webhook endpoints) makes the path two deep, and reuses a kept-alive connection', async () => {
    const { stats } = await doctorStats('webhook-deny', ['--only', 'cluster-webhooks'])
    expect(stats.roundTrips).toBe(2)
    expect(stats.connections).toBeLessThan(stats.requests)
  })
})
