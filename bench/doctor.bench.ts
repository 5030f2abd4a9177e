/**
 * Doctor against the simulator with 20 ms of added latency per request: how many requests, how many
 * sequential round trips, how long — against the checklist of kubectl commands a user would run by
 * hand to learn the same things.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { start, type Sim } from '../src/sim/index.js'
import { loadConfig } from '../src/config/load.js'
import { requiredPermissions } from '../src/executor/permissions.js'
import { renderJob } from '../src/executor/render.js'
import { objectsYaml } from '../src/executor/output.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Runs a command to its end; `tailMs` is the time from its last output byte to its exit. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<{ code: number | null; stdout: string; tailMs: number }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } })
    let stdout = ''
    let lastOutput = performance.now()
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); lastOutput = performance.now() })
    child.stderr.on('data', () => (lastOutput = performance.now()))
    if (input !== undefined) child.stdin.end(input)
    child.on('exit', (code) => resolve({ code, stdout, tailMs: performance.now() - lastOutput }))
  })
}

export interface Measured {
  doctorMs: number
  /** From doctor's last output byte to its exit: what the process spends after it has said everything. */
  doctorTailMs: number
  stats: { requests: number; roundTrips: number; durationMs: number }
  /** Requests the simulator answered during doctor (its audit log), and connections the proxy saw. */
  serverRequests: number
  connections: number | undefined
  kubectlMs: number
  kubectlCommands: number
  kubectlConnections: number | undefined
}

/** One doctor run and the equivalent kubectl checklist against one simulator (latency or RTT given by the caller). */
export async function measure(sim: Sim): Promise<Measured> {
  const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1' }
  await run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), '--version'])
  const before = sim.audit.length
  const conns0 = sim.network()?.connections
  const t0 = performance.now()
  const doctor = await run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], env)
  const doctorMs = performance.now() - t0
  const serverRequests = sim.audit.length - before
  const conns1 = sim.network()?.connections
  const stats = (JSON.parse(doctor.stdout) as { result: { stats: { requests: number; roundTrips: number; durationMs: number } } }).result.stats

  const config = await loadConfig({ path: sim.runnerConfig })
  const runner = config.runners[0]!
  const ns = 'gitlab-runner'
  const as = '--as=system:serviceaccount:gitlab-runner:gitlab-runner'
  const cache = mkdtempSync(path.join(os.tmpdir(), 'gkr-bench-kubectl-'))
  const podFile = path.join(cache, 'pod.yaml')
  writeFileSync(podFile, objectsYaml(renderJob({ runner }).objects))
  const checklist: string[][] = [
    ...requiredPermissions(runner).filter((p) => !p.grantedByDefault).map((p) => {
      const [resource, sub] = p.resource.split('/')
      return ['auth', 'can-i', p.verb, `${resource}${p.apiGroup ? `.${p.apiGroup}` : ''}`, ...(sub ? [`--subresource=${sub}`] : []), '-n', ns, as]
    }),
    ['get', 'namespace', ns], ['get', 'serviceaccount', 'gitlab-runner', '-n', ns], ['get', 'secrets', '-n', ns], ['get', 'configmaps', '-n', ns],
    ['get', 'resourcequota', '-n', ns, '-o', 'yaml'], ['get', 'limitrange', '-n', ns, '-o', 'yaml'], ['get', 'nodes', '--show-labels'],
    ['get', 'validatingwebhookconfigurations'], ['get', 'mutatingwebhookconfigurations'], ['get', 'pods', '-n', ns], ['get', 'events', '-n', ns, '--field-selector', 'type=Warning'],
    ['get', 'clusterpolicies.kyverno.io'], ['get', 'constrainttemplates.templates.gatekeeper.sh'],
    ['create', '--dry-run=server', '-f', podFile],
  ]
  // Warm kubectl's discovery cache once, as a user's shell would have it.
  await run('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', path.join(cache, 'cache'), 'api-resources'], { HOME: cache })
  const k0 = sim.network()?.connections
  const t1 = performance.now()
  for (const args of checklist) await run('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', path.join(cache, 'cache'), ...args], { HOME: cache })
  const kubectlMs = performance.now() - t1
  const k1 = sim.network()?.connections
  rmSync(cache, { recursive: true, force: true })
  return {
    doctorMs, doctorTailMs: doctor.tailMs, stats, serverRequests,
    connections: conns0 !== undefined && conns1 !== undefined ? conns1 - conns0 : undefined,
    kubectlMs, kubectlCommands: checklist.length,
    kubectlConnections: k0 !== undefined && k1 !== undefined ? k1 - k0 : undefined,
  }
}

export default async function bench(): Promise<void> {
  const LATENCY = 20
  const sim = await start('rbac-missing-attach', { latencyMs: LATENCY })
  try {
    const m = await measure(sim)
    console.log(`simulated latency: ${LATENCY} ms per request (in the server; no handshake cost)`)
    console.log(`gkr doctor:        ${Math.round(m.doctorMs)} ms wall (process included), ${m.serverRequests} requests answered by the server; doctor reports ${m.stats.requests} requests in ${m.stats.roundTrips} phases, ${Math.round(m.stats.durationMs)} ms gathering`)
    console.log(`                   ≈ ${Math.round(m.stats.durationMs / LATENCY)} request latencies on the critical path (gathering ms / ${LATENCY} ms)`)
    console.log(`kubectl checklist: ${Math.round(m.kubectlMs)} ms wall for ${m.kubectlCommands} commands run one after another`)
    console.log(`ratio:             kubectl checklist takes ${(m.kubectlMs / m.doctorMs).toFixed(1)}× as long as gkr doctor`)
  } finally {
    await sim.stop()
  }
}
