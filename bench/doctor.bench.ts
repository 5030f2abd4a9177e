/**
 * Doctor against the simulator with 20 ms of added latency per request: how many requests, how many
 * sequential round trips, how long — against the checklist of kubectl commands a user would run by
 * hand to learn the same things.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { start } from '../src/sim/index.js'
import { loadConfig } from '../src/config/load.js'
import { requiredPermissions } from '../src/executor/permissions.js'
import { renderJob } from '../src/executor/render.js'
import { objectsYaml } from '../src/executor/output.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.resume()
    if (input !== undefined) child.stdin.end(input)
    child.on('close', (code) => resolve({ code, stdout }))
  })
}

export default async function bench(): Promise<void> {
  const LATENCY = 20
  const sim = await start('rbac-missing-attach', { latencyMs: LATENCY })
  try {
    const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1' }
    await run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), '--version'])
    const t0 = performance.now()
    const doctor = await run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], env)
    const doctorMs = performance.now() - t0
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
    const t1 = performance.now()
    for (const args of checklist) await run('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', path.join(cache, 'cache'), ...args], { HOME: cache })
    const kubectlMs = performance.now() - t1
    console.log(`simulated latency: ${LATENCY} ms per request`)
    console.log(`gkr doctor:        ${Math.round(doctorMs)} ms wall (process included), ${stats.requests} requests in ${stats.roundTrips} sequential round trips, ${Math.round(stats.durationMs)} ms gathering`)
    // The phases above are counted by doctor; the latency-bound steps are what the wall clock says:
    // how many request latencies the gathering took end to end (the real critical path).
    console.log(`                   ≈ ${Math.round(stats.durationMs / LATENCY)} request latencies on the critical path (gathering ms / ${LATENCY} ms)`)
    console.log(`kubectl checklist: ${Math.round(kubectlMs)} ms wall for ${checklist.length} commands run one after another`)
    console.log(`ratio:             kubectl checklist takes ${(kubectlMs / doctorMs).toFixed(1)}× as long as gkr doctor`)
  } finally {
    await sim.stop()
  }
}
