import type { CheckResult, CheckStatus } from '../checks/types.js'

/** What doctor found, per runner. The JSON output is this object (docs/json-output.md). */
export interface DoctorReport {
  /** offline: the configuration alone; cluster: read-only checks against a cluster; live: with probes. */
  mode: 'offline' | 'cluster' | 'live'
  config: { file: string; format: 'toml' | 'helm' }
  cluster?: ClusterInfo
  runners: RunnerReport[]
  summary: Summary
  stats?: GatherStats
  /** Things the user should know about how the run went (e.g. why it ran offline). */
  notes: string[]
}

export interface ClusterInfo {
  server: string
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

export interface GatherStats {
  requests: number
  roundTrips: number
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

export type FailOn = 'fail' | 'warn'

/** The exit code class of a report: failed (1), incomplete (3: checks errored), or ok (0). */
export function verdict(report: DoctorReport, failOn: FailOn): 'failed' | 'incomplete' | 'ok' {
  const s = report.summary
  if (s.fail > 0 || (failOn === 'warn' && s.warn > 0)) return 'failed'
  if (s.error > 0) return 'incomplete'
  return 'ok'
}
