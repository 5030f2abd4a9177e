/**
 * The core of `gkr run-job`: given the job, the runner and the objects rendered for it (src/executor),
 * either submit them with dryRun=All (default) or run the job live, and say what happened. The command
 * builds the inputs (config, CI file, cluster, render) and prints; this function does the work.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { CiJob } from '../ci/types.js'
import type { LoadedRunner } from '../config/types.js'
import { EXIT, type ExitCode } from '../cli/exit-codes.js'
import type { Clock } from './clock.js'
import { describeDryRun, dryRunJob, formatObjects, redact, type DryRunResult, type Explain } from './dryrun.js'
import { kubeExec, type ExecFn } from './exec.js'
import { kubeAttach, type AttachFn } from './attach.js'
import type { CleanupLedger } from './ledger.js'
import { runLive, type LiveResult, type LiveSettings, type Stage, type StageState } from './live.js'
import { ObjectClient, type ApiCall, type KubeObject } from './objects.js'
import { jobMasker } from '../executor/output.js'

export interface RunJobInput {
  job: CiJob
  runner: LoadedRunner
  namespace: string
  /** Rendered objects in the runner's creation order (secrets, config maps, services, pod). */
  objects: KubeObject[]
  mode: 'dry-run' | 'live'
  output?: 'yaml' | 'json'
  kubeConfig?: KubeConfig
  /** How every API call of the run is made: the cluster target's retry policy (`ClusterTarget.call`). */
  call?: ApiCall
  /** Injected in tests instead of kubeConfig. */
  client?: ObjectClient | LiveClient
  exec?: ExecFn
  attach?: AttachFn
  /** Live only. */
  projectRoot?: string
  projectDir?: string
  env?: Record<string, string>
  artifactsDir?: string
  clock: Clock
  signal: AbortSignal
  /** Where printed objects, the dry-run report and the job log go (nothing when --json). */
  write: (text: string) => void
  onStage?: (stage: Stage, state: StageState, detail?: string) => void
  explain?: Explain
  ledger?: CleanupLedger
}

type LiveClient = Parameters<typeof runLive>[0]['client']

export interface RunJobResult {
  mode: 'dry-run' | 'live'
  job: string
  runner: string
  namespace: string
  /** CI keys of the job gkr did not act on. */
  unsupported: string[]
  objects: KubeObject[]
  dryRun?: DryRunResult
  live?: Omit<LiveResult, 'cleanup'> & { cleanup: { deleted: number; left: { kind: string; name: string; reason: string }[]; commands: string[] } }
  exitCode: ExitCode
}

/** poll/cleanup settings of a runner ([runners.kubernetes], with the runner's defaults for unset keys). */
export function liveSettings(runner: LoadedRunner): LiveSettings {
  const k = (runner.settings.kubernetes ?? {}) as Record<string, unknown>
  const sec = (v: unknown, d: number): number => (typeof v === 'number' && v > 0 ? v : d) * 1000
  return {
    pollIntervalMs: sec(k.poll_interval, 3),
    pollTimeoutMs: sec(k.poll_timeout, 180),
    cleanupTimeoutMs: sec(k.cleanup_resources_timeout, 300),
    printWarningEvents: k.print_pod_warning_events !== false,
    strategy: runner.featureFlags.FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY ? 'exec' : 'attach',
  }
}

export async function runJob(input: RunJobInput): Promise<RunJobResult> {
  const client = input.client ?? new ObjectClient(requireKubeConfig(input), input.call)
  // Everything printed goes through one masking stream, so a value split across two log chunks is still masked.
  const masker = jobMasker(input.runner, input.job, input.env ?? input.job.variables)
  const log = masker.stream()
  const write = (text: string): void => {
    const safe = log.push(text)
    if (safe) input.write(safe)
  }
  const flush = (): void => {
    const rest = log.end()
    if (rest) input.write(rest)
  }
  try {
    return masker.maskDeep(await runMasked(input, client, masker, write, flush))
  } finally {
    flush()
  }
}

async function runMasked(input: RunJobInput, client: ObjectClient | LiveClient, masker: ReturnType<typeof jobMasker>, write: (text: string) => void, flush: () => void): Promise<RunJobResult> {
  const base = {
    job: input.job.name, runner: input.runner.name, namespace: input.namespace, unsupported: input.job.unsupported,
    objects: input.objects.map((o) => redact(o, masker)),
  }
  for (const note of input.job.notes ?? []) write(`Note: ${note}\n`)
  if (input.job.unsupported.length > 0) {
    write(`Note: gkr does not act on ${input.job.unsupported.join(', ')} in job ${input.job.name}; they are ignored for this run.\n`)
  }
  if (input.mode === 'dry-run') {
    write(formatObjects(input.objects, input.output ?? 'yaml', masker))
    const dryRun = await dryRunJob({ client: client as ObjectClient, namespace: input.namespace, objects: input.objects, explain: input.explain, signal: input.signal })
    write(describeDryRun(dryRun))
    return { mode: 'dry-run', ...base, dryRun, exitCode: dryRun.accepted ? EXIT.OK : EXIT.FAILED }
  }
  const streams = input.call ? { call: input.call } : {}
  const exec = input.exec ?? kubeExec(requireKubeConfig(input), streams)
  const attach = input.attach ?? (input.kubeConfig ? kubeAttach(input.kubeConfig, streams) : undefined)
  const live = await runLive({
    client: client as LiveClient, exec, ...(attach ? { attach } : {}), namespace: input.namespace, objects: input.objects, job: input.job,
    env: input.env ?? input.job.variables, projectRoot: input.projectRoot ?? process.cwd(),
    projectDir: input.projectDir ?? '/builds/local/project', settings: liveSettings(input.runner),
    ...(input.artifactsDir ? { artifactsDir: input.artifactsDir } : {}),
    clock: input.clock, signal: input.signal, log: write, ...(input.onStage ? { onStage: input.onStage } : {}),
    ...(input.explain ? { explain: input.explain } : {}), ...(input.ledger ? { ledger: input.ledger } : {}),
  })
  flush()
  if (live.failure) {
    write(`${live.failure.message}\n`)
    if (live.failure.ref) write(`  See: ${live.failure.ref}\n`)
    for (const s of live.failure.suggestions) write(`  Try: ${s}\n`)
  } else if (live.cleanup.left.length > 0) {
    // The job passed, but what it ran in is still there (a Running pod, a secret): not a clean success.
    write(`Job succeeded, but cleanup left ${live.cleanup.left.length} object(s) in the cluster\n`)
  } else write('Job succeeded\n')
  return {
    mode: 'live', ...base,
    live: {
      ...live,
      cleanup: {
        deleted: live.cleanup.deleted.length,
        left: live.cleanup.left.map((l) => ({ kind: l.kind, name: l.name, reason: l.reason })),
        commands: live.cleanup.commands,
      },
    },
    // Something gkr created is still in the cluster: the run is not complete, whatever the job did.
    exitCode: live.cleanup.left.length > 0 ? EXIT.INCOMPLETE : live.success ? EXIT.OK : EXIT.FAILED,
  }
}

function requireKubeConfig(input: RunJobInput): KubeConfig {
  if (!input.kubeConfig) throw new Error('runJob needs a kubeConfig or an injected client')
  return input.kubeConfig
}
