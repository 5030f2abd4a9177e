/**
 * doctor in a big namespace: 50,000 secrets and 10,000 pods (made in the simulator's store directly,
 * no scenario file), next to the same doctor on the empty namespace. Reports wall time, requests and
 * the doctor process's peak resident memory (VmHWM, read from /proc while it runs). Issue 15's targets:
 * peak RSS ≤ 200 MB, wall time within 1.5× of the empty namespace, requests growing only by pages.
 * GKR_BENCH_SECRETS / GKR_BENCH_PODS scale it.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { start, type Sim } from '../src/sim/index.js'
import { resourceForKind } from '../src/sim/resources.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SECRETS = Number(process.env.GKR_BENCH_SECRETS ?? 50_000)
const PODS = Number(process.env.GKR_BENCH_PODS ?? 10_000)

function peakKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

async function doctor(sim: Sim): Promise<{ ms: number; peakMb: number; requests: number }> {
  const before = sim.audit.length
  const t0 = performance.now()
  const child = spawn(process.execPath, [...(process.env.GKR_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GKR_BENCH_PROF}`] : []), path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], { env: { ...process.env, KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  let peak = 0
  const poll = setInterval(() => (peak = Math.max(peak, peakKb(child.pid!))), 20)
  await new Promise((resolve) => child.on('exit', resolve))
  clearInterval(poll)
  if (process.env.GKR_BENCH_DEBUG) console.log(stderr.slice(0, 2000))
  return { ms: performance.now() - t0, peakMb: peak / 1024, requests: sim.audit.length - before - sim.audit.slice(before).filter((e) => e.path.startsWith('/api/v4/')).length }
}

export default async function bench(): Promise<void> {
  const sim = await start('healthy')
  try {
    const empty = await doctor(sim)
    const ns = 'gitlab-runner'
    const secret = resourceForKind('v1', 'Secret')!
    const pod = resourceForKind('v1', 'Pod')!
    for (let i = 0; i < SECRETS; i++) sim.store.create(secret, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `app-${i}`, namespace: ns, labels: { app: 'bench' } }, data: { token: Buffer.from(`value-${i}`).toString('base64') } })
    // Already bound to a node (as an application's running pods are): the simulator's scheduler and
    // kubelet leave them alone, so only doctor's reads are measured.
    const nodeName = sim.store.list(resourceForKind('v1', 'Node')!)[0]?.metadata.name ?? 'node-1'
    for (let i = 0; i < PODS; i++) sim.store.create(pod, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `app-${i}`, namespace: ns, labels: { app: 'bench' } }, spec: { nodeName, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] }, status: { phase: 'Running' } })
    const big = await doctor(sim)
    console.log(`empty namespace:            ${Math.round(empty.ms)} ms wall, ${empty.requests} requests, peak RSS ${Math.round(empty.peakMb)} MB`)
    console.log(`${SECRETS} secrets + ${PODS} pods: ${Math.round(big.ms)} ms wall, ${big.requests} requests, peak RSS ${Math.round(big.peakMb)} MB`)
    console.log(`ratio:                      ${(big.ms / empty.ms).toFixed(2)}× the empty namespace's wall time (the simulator's own time included: it runs in this process)`)
  } finally {
    await sim.stop()
  }
}
