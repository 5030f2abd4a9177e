/**
 * doctor in a big namespace: 50,000 secrets and 10,000 pods (a scenario's `generate:` entries, no
 * YAML spelled out), next to the same doctor on the empty namespace, side by side. Doctor runs in a
 * process of its own; the simulator runs in this one, so its own time is this process's CPU time
 * during the run (process.cpuUsage(): user + system), and doctor's time is the wall time minus it.
 * Also: the doctor process's peak resident memory (VmHWM, read from /proc while it runs) and the
 * requests it made (lists, and list pages after the first). Issue 15's targets: peak RSS ≤ 200 MB,
 * wall time within 1.5× of the empty namespace excluding the simulator's time, requests growing only
 * by pages. GKR_BENCH_SECRETS / GKR_BENCH_PODS scale it; take figures when `uptime` shows load < 2.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadScenario, start, type Scenario, type Sim } from '../src/sim/index.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SECRETS = Number(process.env.GKR_BENCH_SECRETS ?? 50_000)
const PODS = Number(process.env.GKR_BENCH_PODS ?? 10_000)
const NS = 'gitlab-runner'

function peakKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

interface Run {
  wallMs: number
  simCpuMs: number
  peakMb: number
  requests: number
  lists: number
  pages: number
  exit: number | null
}

async function doctor(sim: Sim): Promise<Run> {
  const before = sim.audit.length
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const child = spawn(process.execPath, [...(process.env.GKR_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GKR_BENCH_PROF}`] : []), path.join(ROOT, 'bin', 'run.js'), 'doctor', '--as-runner', '--json'], { env: { ...process.env, KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  let peak = 0
  const poll = setInterval(() => (peak = Math.max(peak, peakKb(child.pid!))), 20)
  const exit = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const wallMs = performance.now() - t0
  clearInterval(poll)
  const cpu = process.cpuUsage(cpu0)
  if (process.env.GKR_BENCH_DEBUG) console.log(stderr.slice(0, 2000))
  const kube = sim.audit.slice(before).filter((e) => !e.path.startsWith('/api/v4/'))
  const lists = kube.filter((e) => e.verb === 'list')
  return { wallMs, simCpuMs: (cpu.user + cpu.system) / 1000, peakMb: peak / 1024, requests: kube.length, lists: lists.length, pages: lists.filter((e) => e.requestURI.includes('continue=')).length, exit }
}

/** The healthy scenario, its quota made room for the big namespace (the same for both runs). */
function base(): Scenario {
  const s = loadScenario('healthy')
  const quota = s.objects.find((o) => o.kind === 'ResourceQuota')
  // The healthy quota is sized for a CI namespace; the applications here would exceed it.
  if (quota) quota.spec = { hard: { pods: String(PODS + 100), secrets: String(SECRETS + 100), 'requests.cpu': '10k', 'requests.memory': '10Ti' } }
  return s
}

/** With the big namespace generated into it. */
function bigScenario(): Scenario {
  return {
    ...base(),
    generate: [
      { kind: 'Secret', count: SECRETS, name: 'app-{{i}}', namespace: NS, labels: { app: 'bench' }, template: { type: 'Opaque', data: { token: Buffer.from('value').toString('base64') } } },
      // Already bound to a node (as an application's running pods are): the simulator's scheduler and
      // kubelet leave them alone, so only doctor's reads are measured.
      { kind: 'Pod', count: PODS, name: 'app-{{i}}', namespace: NS, labels: { app: 'bench' }, template: { spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'registry.example.com/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] }, status: { phase: 'Running' } } },
    ],
  }
}

async function measure(scenario: string | Scenario): Promise<{ run: Run; startMs: number }> {
  const t0 = performance.now()
  const sim = await start(scenario)
  const startMs = performance.now() - t0
  try {
    return { run: await doctor(sim), startMs }
  } finally {
    await sim.stop()
  }
}

export default async function bench(): Promise<void> {
  console.log(`load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const empty = await measure(base())
  const big = await measure(bigScenario())
  const row = (label: string, f: (r: Run) => string): string => `${label.padEnd(34)}${f(empty.run).padStart(14)}${f(big.run).padStart(28)}`
  const ms = (n: number): string => `${Math.round(n)} ms`
  console.log(`${''.padEnd(34)}${'empty'.padStart(14)}${`${SECRETS} secrets + ${PODS} pods`.padStart(28)}`)
  console.log(`${'simulator start (seeding)'.padEnd(34)}${ms(empty.startMs).padStart(14)}${ms(big.startMs).padStart(28)}`)
  console.log(row('doctor exit code', (r) => String(r.exit)))
  console.log(row('doctor wall', (r) => ms(r.wallMs)))
  console.log(row('simulator CPU during it', (r) => ms(r.simCpuMs)))
  console.log(row('doctor wall − simulator CPU', (r) => ms(r.wallMs - r.simCpuMs)))
  console.log(row('doctor peak RSS', (r) => `${Math.round(r.peakMb)} MB`))
  console.log(row('requests (lists, later pages)', (r) => `${r.requests} (${r.lists}, ${r.pages})`))
  const net = (r: Run): number => r.wallMs - r.simCpuMs
  console.log(`ratio, simulator's time excluded: ${(net(big.run) / net(empty.run)).toFixed(2)}× (target ≤ 1.5×); with it: ${(big.run.wallMs / empty.run.wallMs).toFixed(2)}×`)
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
}
