import type { CheckResult, CheckStatus, Severity } from '../checks/types.js'

/** What doctor found, per runner. The JSON output is this object (docs/json-output.md). */
export interface DoctorReport {
  /** offline: the configuration alone; cluster: read-only checks against a cluster; live: with probes. */
  mode: 'offline' | 'cluster' | 'live'
  config: { file: string; format: 'toml' | 'helm' }
  cluster?: ClusterInfo
  runners: RunnerReport[]
  /** Checks counted by how they ended (a check with a FAIL and a WARN finding counts once, as fail). */
  summary: Summary
  /** Findings counted by their own severity: what the report lists. */
  findings: FindingCounts
  stats?: GatherStats
  /** Things the user should know about how the run went (e.g. why it ran offline). */
  notes: string[]
}

export interface ClusterInfo {
  server: string
  /** How doctor found the cluster: the runner config's host, a kubeconfig, or in-cluster configuration. */
  source?: 'runner-config' | 'kubeconfig' | 'in-cluster'
  context?: string
  namespace?: string
  identity?: string
}

export interface RunnerReport {
  name: string
  index: number
  results: CheckResult[]
}

export type Summary = Record<CheckStatus, number>

export type FindingCounts = Record<Severity, number>

export interface GatherStats {
  requests: number
  /** Measured: the longest chain of requests that waited for one another, summed over runners (gathered one after another). */
  roundTrips: number
  /** New connections opened (a reused keep-alive connection does not count). */
  connections?: number
  durationMs: number
  errors?: number
  retries?: number
}

export const STATUS_ORDER: readonly CheckStatus[] = ['fail', 'error', 'warn', 'skipped', 'info', 'pass']

export function summarize(runners: readonly RunnerReport[]): Summary {
  const s: Summary = { pass: 0, fail: 0, warn: 0, info: 0, skipped: 0, error: 0 }
  for (const r of runners) for (const c of r.results) s[c.status]++
  return s
}

/** Every finding of every check, by the finding's severity (not the check's status). */
export function countFindings(runners: readonly RunnerReport[]): FindingCounts {
  const n: FindingCounts = { fail: 0, warn: 0, info: 0 }
  for (const r of runners) for (const c of r.results) for (const f of c.findings) n[f.severity]++
  return n
}

export type FailOn = 'fail' | 'warn'

/** The exit code class of a report: failed (1), incomplete (3: checks errored), or ok (0). */
export function verdict(report: DoctorReport, failOn: FailOn): 'failed' | 'incomplete' | 'ok' {
  const s = report.summary
  if (s.fail > 0 || (failOn === 'warn' && s.warn > 0)) return 'failed'
  if (s.error > 0) return 'incomplete'
  return 'ok'
}
