/**
 * The seeded soak of `run-job --live` (issue 18): a few hundred runs against the in-process simulator,
 * eight at a time in one namespace, drawn from every fault the simulator can inject (etcd, 504, 429,
 * dropped connections and 503 on each verb run-job uses, one-shot and persistent, before the request is
 * carried out or after it, with the answer lost), quotas, denying and timing-out webhooks, slow
 * scheduling, image pull failures, failing and hanging scripts, an API server that goes away mid-run
 * (and comes back, soon or too late), and interrupts (the abort SIGINT/SIGTERM fire) before the creates,
 * during them, while attached and during cleanup. Before each round another party creates objects of the
 * same kinds, with similar names and the runner's labels. After each round the namespace is listed
 * through the API: nothing of ours is left unless the run said so (and then exactly that), nothing of the
 * bystanders is gone, every exit code is in the taxonomy, and no run reports a leftover that is not there.
 *
 * SOAK_SEED=<n> replays a plan (the seed is printed with every failure and in the summary line);
 * SOAK_RUNS=<n> scales the number of runs (default 304, a multiple of the round size of 8); SOAK_ROUNDS=3,17
 * runs only those rounds of the plan; SOAK_VERBOSE=1 prints a line per round.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import type { Fault, Scenario } from '../../src/sim/scenario.js'
import { projectUniqueName, seededRandom, shortenToken } from '../../src/executor/names.js'
import { EXIT } from '../../src/cli/exit-codes.js'
import { CleanupLedger, type CleanupOptions, type CleanupReport, type DeleteObject, type ObjectRef } from '../../src/runjob/ledger.js'
import { GkrError } from '../../src/util/errors.js'
import { listedIn, runOnSim, scaledClock, type SimRun } from './sim-harness.js'

const SEED = Number(process.env.SOAK_SEED ?? 20261203)
const RUNS = Math.max(8, Number(process.env.SOAK_RUNS ?? 304))
const ROUND = 8
/** Rounds at once, each against a simulator of its own (two loaded cores). */
const PARALLEL = Number(process.env.SOAK_PARALLEL ?? 3)

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-soak-'))
writeFileSync(path.join(project, 'README.txt'), 'soak\n')
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, [
  'ok:', '  script:', '    - echo soak-ok',
  'fail:', '  script:', '    - echo soak-fail', '    - exit 3',
  // A job timeout of one minute is 0.6 s on the scaled clock; the script would sleep far longer.
  'hang:', '  timeout: 1m', '  script:', '    - echo soak-hang', '    - sleep 30',
  'after:', '  script:', '    - echo soak-after', '  after_script:', '    - echo soak-after-script',
].join('\n') + '\n')
const JOBS = ['ok', 'fail', 'hang', 'after'] as const
type Job = (typeof JOBS)[number]

/** Registry credentials make the runner create a Secret before the pod (then owned by the pod). */
const AUTH = 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c29hay11c2VyOnNvYWs="}}}'
const TAXONOMY = new Set<number>(Object.values(EXIT).filter((c) => c !== EXIT.INTERNAL))

type Abort = 'none' | 'before-create' | 'during-creates' | 'attached' | 'cleanup'
type RoundKind = 'clean' | 'fault' | 'outage' | 'quota' | 'webhook-deny' | 'webhook-timeout' | 'slow-scheduling' | 'image-pull-failure'
const KINDS: RoundKind[] = ['clean', 'fault', 'outage', 'quota', 'webhook-deny', 'webhook-timeout', 'slow-scheduling', 'image-pull-failure']
/** The rounds drawn after the first of each kind: outages and clean rounds twice as often. */
const WEIGHTED: RoundKind[] = [...KINDS, 'outage', 'clean']
const FAULT_KINDS: Fault['kind'][] = ['etcd', 'timeout', 'throttle', 'reset', 'unavailable']
/** Every "verb resource" run-job sends (pods/attach and pods/exec are streams, not faultable requests). */
const MATCHES = ['create secrets', 'create pods', 'update secrets', 'get pods', 'get secrets', 'list events', 'delete pods', 'delete secrets', '* pods', '* secrets', '* *']
/** The requests that change something: where an answer lost after the change matters. */
const WRITES = MATCHES.filter((m) => !/^(get|list) /.test(m))

interface RunPlan { job: Job; auth: boolean; abort: Abort; at: number }
interface RoundPlan { index: number; kind: RoundKind; faults: Fault[]; outage?: { after: number; backMs: number }; runs: RunPlan[] }

function plan(seed: number, runs: number): RoundPlan[] {
  const rnd = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const rounds: RoundPlan[] = []
  let faultRounds = 0
  for (let index = 0; index < Math.ceil(runs / ROUND); index++) {
    // The first rounds go through every kind once, so even a small SOAK_RUNS covers them; then every other
    // round injects API faults, the rest are drawn.
    const kind = index < KINDS.length ? KINDS[index]! : index % 2 === 1 ? 'fault' : pick(WEIGHTED)
    const faults: Fault[] = []
    if (kind === 'fault') {
      // Each fault round takes the next two of the ten (kind × before/after) combinations, so five fault
      // rounds walk them all; the first of the two is persistent every third round. Verbs and rates are drawn.
      const f = faultRounds++
      for (const c of [2 * f, 2 * f + 1]) {
        const after = Math.floor(c / FAULT_KINDS.length) % 2 === 0
        faults.push({
          // Carried out, answer lost: a create that persisted, a delete that deleted, without a reply.
          match: pick(after ? WRITES : MATCHES), kind: FAULT_KINDS[c % FAULT_KINDS.length]!, rate: pick([1, 0.5, 0.34]),
          ...(c === 2 * f && f % 3 === 2 ? {} : { times: 1 + Math.floor(rnd() * 3) }),
          ...(after ? { after: true } : {}),
        })
      }
    }
    // Goes away after some of the round's requests; back within the retries' reach, or only after the round gave up.
    const outage = kind === 'outage' ? { after: 6 + Math.floor(rnd() * 40), backMs: pick([300, 2_000, 60_000]) } : undefined
    const clean = kind === 'clean'
    rounds.push({
      index, kind, faults, ...(outage ? { outage } : {}),
      runs: Array.from({ length: ROUND }, () => ({
        job: clean ? 'ok' : pick(JOBS),
        auth: clean || rnd() < 0.8,
        abort: clean || rnd() < 0.55 ? 'none' : pick(['before-create', 'during-creates', 'attached', 'cleanup'] as const),
        at: 1 + Math.floor(rnd() * 2),
      })),
    })
  }
  return rounds
}

function scenarioFor(r: RoundPlan): Scenario {
  const base = { quota: 'healthy', clean: 'healthy', fault: 'healthy', outage: 'healthy' }[r.kind as string] ?? r.kind
  const s = loadScenario(base)
  // Room for four job pods (and the bystander pod): the other runs of the round meet "exceeded quota".
  if (r.kind === 'quota') s.objects.push({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'soak-pods', namespace: 'gitlab-runner' }, spec: { hard: { pods: '5' } } })
  return s
}

/**
 * A ledger that fires the abort the command's signal handler fires (the first SIGINT/SIGTERM) at one
 * moment of the run: when the n-th create is about to be sent, or when cleanup starts.
 */
class TimedLedger extends CleanupLedger {
  private records = 0
  constructor(private readonly onRecord: (n: number) => void, private readonly onCleanup: () => void) {
    super()
  }
  override record(ref: ObjectRef) {
    const entry = super.record(ref)
    this.onRecord(++this.records)
    return entry
  }
  override cleanup(deleteObject: DeleteObject, opts: CleanupOptions): Promise<CleanupReport> {
    this.onCleanup()
    return super.cleanup(deleteObject, opts)
  }
}

const interrupt = (ac: AbortController): void => {
  if (!ac.signal.aborted) ac.abort(new GkrError('interrupted', 'interrupted by SIGINT', { exit: EXIT.INTERRUPTED }))
}

interface Outcome { plan: RunPlan; run: SimRun; exit: number; fired: boolean; reported: string[]; mayNotExist: string[]; ms: number }

const RESOURCE: Record<string, string> = { Pod: 'pods', Secret: 'secrets', Service: 'services', ConfigMap: 'configmaps', PodDisruptionBudget: 'poddisruptionbudgets' }

/** The leftovers a run told the user about (cleanup's paragraph): "resource/name", and those it said may not exist. */
function leftoversSaid(out: string): { reported: string[]; mayNotExist: string[] } {
  const reported: string[] = []
  const mayNotExist: string[] = []
  for (const m of out.matchAll(/^ {2}(Pod|Secret|Service|ConfigMap|PodDisruptionBudget) [^/\s]+\/(\S+?):? (.*)$/gm)) {
    const name = `${RESOURCE[m[1]!]}/${m[2]}`
    if (/may (not exist|already be gone)/.test(m[3]!)) mayNotExist.push(name)
    else reported.push(name)
  }
  return { reported, mayNotExist }
}

async function runOne(sim: Sim, p: RunPlan): Promise<Outcome> {
  const t0 = Date.now()
  const ac = new AbortController()
  let fired = false
  const fire = (): void => {
    fired ||= !ac.signal.aborted
    interrupt(ac)
  }
  const ledger = new TimedLedger((n) => void (p.abort === 'during-creates' && n === Math.min(p.at, p.auth ? 2 : 1) && fire()), () => void (p.abort === 'cleanup' && fire()))
  // An error that is no GkrError would end the command with exit 70 (a bug in gkr): counted as such.
  const run = await runOnSim(sim, p.job, {
    ciFile, live: true, vars: p.auth ? [AUTH] : [], ledger, signal: ac.signal,
    // Poll, job and cleanup timeouts at 1/100; the retries' backoff (500 ms … 2 s) likewise.
    clock: scaledClock(0.01), retry: { sleep: (ms) => new Promise((r) => setTimeout(r, ms * 0.01)) },
    onStage: (stage, state) => void (p.abort === 'before-create' && stage === 'prepare' && state === 'start' && fire()),
    onWrite: (t) => void (p.abort === 'attached' && t.includes(`soak-${p.job}`) && fire()),
  }).catch((err: unknown): SimRun => ({ error: new GkrError('internal', `not a GkrError: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, { exit: EXIT.INTERNAL }), out: '' }))
  const exit = run.result?.exitCode ?? run.error!.exit
  return { plan: p, run, exit, fired, ...leftoversSaid(run.out), ms: Date.now() - t0 }
}

async function listWhenBack(sim: Sim, namespace: string): Promise<string[]> {
  // After an outage the server listens again on its own (comeBackAfterMs); wait for it, within bounds.
  for (let i = 0; ; i++) {
    try {
      return await listedIn(sim, namespace)
    } catch (err) {
      if (i >= 100) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

interface Bystander { name: string; uid: string }

/** Another party's objects: the kinds run-job creates, names like the runner's, the runner's labels. */
async function createBystanders(sim: Sim, round: number, rnd: () => number): Promise<Bystander[]> {
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfigFor('admin'))
  const core = kc.makeApiClient(CoreV1Api)
  const namespace = 'gitlab-runner'
  const base = projectUniqueName(shortenToken('glrt-SIMULATEDrunnerTOKEN'), 0, 0)
  const suffix = (): string => Array.from({ length: 8 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rnd() * 36)]).join('')
  const labels = { pod: base, 'job.runner.gitlab.com/pod': base, 'manager.runner.gitlab.com/name': 'sim-runner', 'project.runner.gitlab.com/id': '0' }
  const pod = `${base}-${suffix()}`
  // What the round's cluster refuses to everyone (a webhook on pods, say) is simply not there to be taken.
  const made = (await Promise.allSettled([
    core.createNamespacedPod({ namespace, body: { metadata: { name: pod, labels }, spec: { containers: [{ name: 'build', image: 'alpine:3.20', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '10m', memory: '16Mi' } } }] } } }),
    core.createNamespacedSecret({ namespace, body: { metadata: { name: `${pod}-${suffix().slice(0, 5)}`, labels }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from('{}').toString('base64') } } }),
    core.createNamespacedService({ namespace, body: { metadata: { name: `${base}-${suffix()}`.slice(0, 63), labels }, spec: { ports: [{ port: 80 + round }], selector: { pod: base } } } }),
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `${pod}-scripts`, labels }, data: { a: 'b' } } }),
  ])).flatMap((r) => (r.status === 'fulfilled' ? [r.value as { kind?: string; metadata?: { name?: string; uid?: string } }] : []))
  expect(made.length).toBeGreaterThanOrEqual(3)
  return made.map((o) => ({ name: `${RESOURCE[o.kind ?? ''] ?? `${String(o.kind).toLowerCase()}s`}/${o.metadata!.name!}`, uid: o.metadata!.uid! }))
}

async function uidsOf(sim: Sim, names: string[]): Promise<Map<string, string>> {
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfigFor('admin'))
  const core = kc.makeApiClient(CoreV1Api)
  const out = new Map<string, string>()
  const lists = await Promise.all([
    core.listNamespacedPod({ namespace: 'gitlab-runner' }), core.listNamespacedSecret({ namespace: 'gitlab-runner' }),
    core.listNamespacedService({ namespace: 'gitlab-runner' }), core.listNamespacedConfigMap({ namespace: 'gitlab-runner' }),
  ])
  for (const [i, list] of lists.entries()) {
    for (const o of list.items as Array<{ metadata?: { name?: string; uid?: string } }>) {
      const n = `${['pods', 'secrets', 'services', 'configmaps'][i]}/${o.metadata?.name}`
      if (names.includes(n)) out.set(n, o.metadata!.uid!)
    }
  }
  return out
}

interface RoundReport { plan: RoundPlan; outcomes: Outcome[]; left: string[]; problems: string[]; failed: number }

async function soakRound(r: RoundPlan): Promise<RoundReport> {
  const t0 = Date.now()
  const sim = await start(scenarioFor(r))
  const problems: string[] = []
  try {
    const namespace = 'gitlab-runner'
    const seeded = new Set(sim.scenario.objects.map((o) => `${String(o.kind).toLowerCase()}s/${String(o.metadata?.name)}`))
    const bystanders = await createBystanders(sim, r.index, seededRandom(SEED + r.index))
    // The faults start with the runs (the simulator reads its knobs on every request) and end with them,
    // so the test's own reads and writes go through.
    if (r.faults.length) sim.scenario.knobs.faults = r.faults
    if (r.outage) Object.assign(sim.scenario.knobs, { goAwayAfter: sim.audit.length + r.outage.after, comeBackAfterMs: r.outage.backMs })
    const from = sim.audit.length
    const outcomes = await Promise.all(r.runs.map((p) => runOne(sim, p)))
    sim.scenario.knobs.faults = []
    // Measured: the requests the simulator failed (dropped, throttled, unavailable, timed out, etcd) during the runs.
    const failed = sim.audit.slice(from).filter((e) => e.code === -1 || e.code === 429 || e.code === 503 || e.code === 504 || e.code === 500).length
    const listed = await listWhenBack(sim, namespace)
    const theirs = new Set(bystanders.map((b) => b.name))
    const ours = listed.filter((n) => !seeded.has(n) && !theirs.has(n))
    const reported = new Set(outcomes.flatMap((o) => o.reported))
    const mayNotExist = new Set(outcomes.flatMap((o) => o.mayNotExist))
    // Zero bystanders deleted (or replaced: same uid).
    const now = await uidsOf(sim, [...theirs])
    for (const b of bystanders) if (now.get(b.name) !== b.uid) problems.push(`bystander ${b.name} was deleted`)
    // What is left is exactly what the runs said is left.
    for (const n of ours) if (!reported.has(n) && !mayNotExist.has(n)) problems.push(`${n} is left, and no run said so`)
    for (const n of reported) if (!listed.includes(n)) problems.push(`${n} was reported left, but it does not exist`)
    // Leftovers only where the API server could not be asked to delete: it went away, or refused every delete.
    const deletesRefused = r.faults.some((f) => f.times === undefined && /^(delete|get|\*) /.test(f.match))
    if (ours.length > 0 && !r.outage && !deletesRefused) problems.push(`left without the API server failing: ${ours.join(', ')}`)
    for (const o of outcomes) {
      const what = `${o.plan.job}/${o.plan.abort}`
      if (!TAXONOMY.has(o.exit)) problems.push(`${what}: exit ${o.exit}, outside the taxonomy: ${o.run.error?.message.split('\n').slice(0, 4).join(' | ')}`)
      if (o.exit === EXIT.OK && o.reported.length + o.mayNotExist.length > 0) problems.push(`${what}: exit 0 with leftovers`)
      if (o.fired && o.exit !== EXIT.INTERRUPTED) problems.push(`${what}: interrupted, but exit ${o.exit}`)
      if (o.run.error && o.run.error.exit === EXIT.INCOMPLETE && /^(job-failed|image-pull-failed)$/.test(o.run.error.code)) problems.push(`${what}: ${o.run.error.code} with exit 3`)
    }
    if (r.kind === 'clean') {
      for (const o of outcomes) if (o.exit !== EXIT.OK) problems.push(`clean round: ${o.plan.job} exit ${o.exit}: ${o.run.error?.message ?? o.run.out.slice(-300)}`)
    }
    if (sim.bugs().length) problems.push(`simulator bugs: ${sim.bugs().map(String).join('; ')}`)
    if (process.env.SOAK_VERBOSE) console.log(`round ${r.index} ${r.kind} ${JSON.stringify(r.faults)} ${JSON.stringify(r.outage ?? '')}: ${Date.now() - t0} ms; ${outcomes.map((o) => `${o.plan.job}/${o.plan.abort}${o.fired ? '!' : ''}=${o.exit}${o.run.error ? `(${o.run.error.code})` : ''}:${o.ms}ms`).join(' ')}; left ${ours.length}`)
    return { plan: r, outcomes, left: ours, problems, failed }
  } finally {
    await sim.stop()
  }
}

async function pool<T, U>(items: T[], width: number, fn: (t: T) => Promise<U>): Promise<U[]> {
  const out: U[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }))
  return out
}

describe('run-job --live soak (seeded)', () => {
  it(`${RUNS} runs, ${ROUND} at a time in one namespace, every fault and interrupt: nothing left or taken, exit codes in the taxonomy`, async () => {
    const t0 = Date.now()
    const only = process.env.SOAK_ROUNDS?.split(',').map(Number)
    const rounds = plan(SEED, RUNS).filter((r) => !only || only.includes(r.index))
    const reports = await pool(rounds, PARALLEL, soakRound)
    const outcomes = reports.flatMap((r) => r.outcomes)
    const exits = new Map<number, number>()
    for (const o of outcomes) exits.set(o.exit, (exits.get(o.exit) ?? 0) + 1)
    const faults = new Map<string, number>()
    for (const r of reports) {
      faults.set(r.plan.kind, (faults.get(r.plan.kind) ?? 0) + 1)
      for (const f of r.plan.faults) {
        const k = `${f.kind}${f.after ? '-after' : ''}${f.times === undefined ? '-persistent' : ''}`
        faults.set(k, (faults.get(k) ?? 0) + 1)
      }
    }
    const aborts = new Map<string, number>()
    for (const o of outcomes) if (o.fired) aborts.set(o.plan.abort, (aborts.get(o.plan.abort) ?? 0) + 1)
    const fmt = (m: Map<string | number, number>): string => [...m].sort((a, b) => String(a[0]).localeCompare(String(b[0]), 'en', { numeric: true })).map(([k, v]) => `${k}:${v}`).join(' ')
    const left = reports.reduce((n, r) => n + r.left.length, 0)
    const failed = reports.reduce((n, r) => n + r.failed, 0)
    console.log(`soak seed=${SEED}: ${outcomes.length} runs in ${reports.length} rounds, ${((Date.now() - t0) / 1000).toFixed(1)} s; rounds/faults drawn: ${fmt(faults)}; requests the simulator failed: ${failed}; interrupts fired: ${fmt(aborts)}; leftovers (all reported, API server failing): ${left}; exit codes: ${fmt(exits)}`)
    const problems = reports.flatMap((r) => r.problems.map((p) => `round ${r.plan.index} (${r.plan.kind}${r.plan.faults.length ? ` ${JSON.stringify(r.plan.faults)}` : ''}${r.plan.outage ? ` ${JSON.stringify(r.plan.outage)}` : ''}): ${p}`))
    expect(problems, `SOAK_SEED=${SEED} SOAK_RUNS=${RUNS} reproduces this plan`).toEqual([])
    expect(outcomes).toHaveLength(rounds.length * ROUND)
  }, 300_000)
})
