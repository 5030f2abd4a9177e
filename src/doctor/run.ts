import type { Check, CheckContext, CheckOptions, CheckResult } from '../checks/types.js'
import type { Facts } from '../checks/facts.js'
import { runCheck, runnerLabel } from '../checks/run.js'
import type { LoadedConfig, LoadedRunner } from '../config/types.js'
import type { CiFile } from '../ci/types.js'
import { countFindings, summarize, type ClusterInfo, type DoctorReport, type GatherStats, type RunnerReport } from './report.js'
import { silentProgress, type Progress } from './progress.js'
import { GkrError } from '../util/errors.js'
import { EXIT } from '../cli/exit-codes.js'
import { isCatalogId } from '../catalog/ids.js'
import { withClusterVersion } from '../config/version.js'
import { configFor } from '../config/load.js'

/** The result that stands for "the cluster could not be reached": status error, so the exit code is 3. */
export function connectionResult(err: GkrError, runner: string): CheckResult {
  const catalog = err.ref && isCatalogId(err.ref) ? [err.ref] : ['connection-refused-when-attempting-to-communicate-with-the-kubernetes-api']
  return {
    id: 'cluster-connection',
    area: 'cluster',
    title: 'The Kubernetes API server answers',
    severity: 'fail',
    status: 'error',
    reason: err.message,
    catalog,
    findings: [
      {
        check: 'cluster-connection',
        severity: 'fail',
        runner,
        message: err.message,
        catalog,
        ...(err.suggestions.length > 0 ? { fix: { text: err.suggestions.join(' ') } } : {}),
      },
    ],
  }
}

/** What gathering produced for one runner. */
export interface Gathered {
  facts: Facts
  rendered?: unknown
  stats?: GatherStats
}

export interface DoctorInput {
  config: LoadedConfig
  /** The runners to check (the Kubernetes runners, or the one --runner picked). */
  runners: readonly LoadedRunner[]
  checks: readonly Check[]
  ciFile?: CiFile
  options: CheckOptions
  cluster?: ClusterInfo
  /** Reads the facts for one runner (cluster and GitLab). Absent offline: every fact is missing. */
  gather?: (runner: LoadedRunner, signal: AbortSignal) => Promise<Gathered>
  /** Renders the runner's objects when no gather step does (offline). */
  render?: (runner: LoadedRunner) => unknown
  notes?: string[]
  /** Results settled while preparing the configuration (e.g. Flux valuesFrom that could not be read): reported first. */
  configResults?: CheckResult[]
}

export interface DoctorDeps {
  progress?: Progress
  signal?: AbortSignal
}

/**
 * Gather once, then judge: facts for each runner are read first (by `gather`), then every check runs
 * in memory. Checks with scope `global` run once, against the first runner's context.
 */
export async function runDoctor(input: DoctorInput, deps: DoctorDeps = {}): Promise<DoctorReport> {
  const progress = deps.progress ?? silentProgress
  const signal = deps.signal ?? new AbortController().signal
  const runnerReports: RunnerReport[] = []
  const stats: GatherStats[] = []
  const globalChecks = input.checks.filter((c) => c.scope === 'global')
  const runnerChecks = input.checks.filter((c) => c.scope !== 'global')
  const learnt: string[] = []

  for (const [i, runner] of input.runners.entries()) {
    const label = runnerLabel({ runner })
    let gathered: Gathered = { facts: {} }
    let connection: CheckResult | undefined
    if (input.gather) {
      try {
        gathered = await progress.step(`Gather facts for runner ${label}`, () => input.gather!(runner, signal))
        if (gathered.stats) stats.push(gathered.stats)
      } catch (err) {
        // An unreachable API server is itself a finding (exit 3); the configuration checks still run.
        if (!(err instanceof GkrError) || err.exit !== EXIT.INCOMPLETE) throw err
        connection = connectionResult(err, label)
      }
    }
    // The cluster may settle what the configuration leaves open: the runner version the manager pod runs.
    let config = configFor(input.config, runner)
    const pod = gathered.facts.managerPod?.ok ? gathered.facts.managerPod.value : null
    if (pod) {
      const v = withClusterVersion(config.runnerVersion, pod)
      if (v.version !== config.runnerVersion) config = { ...config, ...(v.version ? { runnerVersion: v.version } : {}) }
      if (v.note && !learnt.includes(v.note)) learnt.push(v.note)
    }
    const ctx: CheckContext = {
      config,
      runner,
      facts: gathered.facts,
      ciFile: input.ciFile,
      rendered: gathered.rendered ?? input.render?.(runner),
      options: input.options,
    }
    // Global checks run once per file, or once per release when the file holds several.
    const firstOfRelease = runner.release !== undefined && !input.runners.slice(0, i).some((r) => r.release?.index === runner.release!.index)
    const checks = i === 0 || firstOfRelease ? [...globalChecks, ...runnerChecks] : runnerChecks
    const results: CheckResult[] = await progress.step(`Run ${checks.length} checks for runner ${label}`, async () =>
      checks.map((c) => runCheck(c, ctx)),
    )
    if (connection) results.unshift(connection)
    if (i === 0 && input.configResults) results.unshift(...input.configResults)
    runnerReports.push({ name: label, index: runner.index, results })
  }

  const report: DoctorReport = {
    mode: input.options.live ? 'live' : input.options.online ? 'cluster' : 'offline',
    config: { file: input.config.file, format: input.config.format },
    ...(input.cluster ? { cluster: input.cluster } : {}),
    runners: runnerReports,
    summary: summarize(runnerReports),
    findings: countFindings(runnerReports),
    notes: [...(input.notes ?? []), ...learnt],
  }
  if (stats.length > 0) {
    report.stats = stats.reduce((a, b) => ({
      requests: a.requests + b.requests,
      roundTrips: a.roundTrips + b.roundTrips,
      connections: (a.connections ?? 0) + (b.connections ?? 0),
      durationMs: a.durationMs + b.durationMs,
      errors: (a.errors ?? 0) + (b.errors ?? 0),
      retries: (a.retries ?? 0) + (b.retries ?? 0),
    }))
  }
  return report
}
