/**
 * run-job in-process against the simulator: the same inputs the command builds from its flags
 * (runJobInput) and the same core function (runJob), with the job log captured and an injected clock,
 * so end-to-end flows cost milliseconds instead of a spawned CLI each.
 */
import { connect, createServer } from 'node:net'
import { expect } from 'vitest'
import type { Sim } from '../../src/sim/index.js'
import { CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node'
import { runJobInput } from '../../src/runjob/command-input.js'
import { runJob, type RunJobResult } from '../../src/runjob/run.js'
import { systemClock, type Clock } from '../../src/runjob/clock.js'
import type { CleanupLedger } from '../../src/runjob/ledger.js'
import type { Stage, StageState } from '../../src/runjob/live.js'
import { GkrError } from '../../src/util/errors.js'
import type { RetryPolicy } from '../../src/kube/connect.js'
import { plainLog } from '../../src/runjob/script.js'

/** Sleeps `factor` of the asked time: the runner's poll and cleanup timeouts, shrunk, but still real waits. */
export function scaledClock(factor: number): Clock {
  return { now: () => Date.now(), sleep: (ms, signal) => systemClock.sleep(ms * factor, signal) }
}

export interface SimRun {
  result?: RunJobResult
  error?: GkrError
  /** The job log and report, section markers and colours removed. */
  out: string
}

export interface SimRunOptions {
  ciFile: string
  /** Default: the scenario's default identity (admin). */
  kubeconfig?: string
  live?: boolean
  vars?: string[]
  artifactsDir?: string
  output?: 'yaml' | 'json'
  clock?: Clock
  signal?: AbortSignal
  ledger?: CleanupLedger
  onStage?: (stage: Stage, state: StageState, detail?: string) => void
  onWrite?: (text: string) => void
  /** Source of the name suffixes (default: crypto random, as the command uses). */
  random?: () => number
  /** Overrides of the cluster target's retry policy (e.g. a shortened sleep). */
  retry?: Partial<RetryPolicy>
}

export async function runOnSim(sim: Sim, job: string, opts: SimRunOptions): Promise<SimRun> {
  let out = ''
  try {
    const input = await runJobInput({
      job, 'ci-file': opts.ciFile, config: sim.runnerConfig, kubeconfig: opts.kubeconfig ?? sim.kubeconfig, live: opts.live ?? false,
      output: opts.output ?? 'yaml', ...(opts.vars ? { var: opts.vars } : {}), ...(opts.artifactsDir ? { 'artifacts-dir': opts.artifactsDir } : {}),
    }, { ...(opts.random ? { random: opts.random } : {}), ...(opts.retry ? { retry: opts.retry } : {}) })
    const result = await runJob({
      ...input, clock: opts.clock ?? scaledClock(0.01), signal: opts.signal ?? new AbortController().signal,
      write: (t) => {
        out += t
        opts.onWrite?.(t)
      },
      ...(opts.onStage ? { onStage: opts.onStage } : {}), ...(opts.ledger ? { ledger: opts.ledger } : {}),
    })
    return { result, out: plainLog(out) }
  } catch (err) {
    if (err instanceof GkrError) return { error: err, out: plainLog(out) }
    throw err
  }
}

/** Names (kind/name) of the pods, secrets, services, config maps and PDBs in the namespace, listed through the API as admin. */
export async function listedIn(sim: Sim, namespace = 'gitlab-runner'): Promise<string[]> {
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfigFor('admin'))
  const core = kc.makeApiClient(CoreV1Api)
  const policy = kc.makeApiClient(PolicyV1Api)
  const lists = await Promise.all([
    core.listNamespacedPod({ namespace }).then((l) => l.items.map((o) => `pods/${o.metadata?.name}`)),
    core.listNamespacedSecret({ namespace }).then((l) => l.items.map((o) => `secrets/${o.metadata?.name}`)),
    core.listNamespacedService({ namespace }).then((l) => l.items.map((o) => `services/${o.metadata?.name}`)),
    core.listNamespacedConfigMap({ namespace }).then((l) => l.items.map((o) => `configmaps/${o.metadata?.name}`)),
    policy.listNamespacedPodDisruptionBudget({ namespace }).then((l) => l.items.map((o) => `poddisruptionbudgets/${o.metadata?.name}`)),
  ])
  return lists.flat()
}

/** Asserts, through the API, that no object gkr created is left in the namespace (the scenario's seeded objects aside). */
export async function expectNothingLeft(sim: Sim, namespace = 'gitlab-runner'): Promise<void> {
  const seeded = new Set(sim.scenario.objects.map((o) => `${String(o.kind).toLowerCase()}s/${String(o.metadata?.name)}`))
  expect((await listedIn(sim, namespace)).filter((n) => !seeded.has(n))).toEqual([])
}

/** A loopback port nothing listens on right now (the OS picks it), for the service a test starts. */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** Whether something accepts connections on 127.0.0.1:port (a job's service, say). */
export const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect(port, '127.0.0.1')
  s.once('connect', () => void (s.destroy(), resolve(true)))
  s.once('error', () => resolve(false))
})
