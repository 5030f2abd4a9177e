import type { Location } from '../util/errors.js'
import type { Facts, FactName } from './facts.js'
import type { LoadedConfig, LoadedRunner } from '../config/types.js'

/** How bad a finding is. `fail` breaks jobs; `warn` may; `info` is advice. */
export type Severity = 'fail' | 'warn' | 'info'
export const SEVERITIES: readonly Severity[] = ['fail', 'warn', 'info']

/** How a check ended. A check that could not run (`skipped`, `error`) never counts as a pass. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'info' | 'skipped' | 'error'

/** The concrete change that resolves a finding. Snippets are complete enough to paste. */
export interface Fix {
  text: string
  /** config.toml snippet (with its table header). */
  toml?: string
  /** Kubernetes YAML (e.g. a Role rule) or Helm values.yaml snippet. */
  yaml?: string
  /** .gitlab-ci.yml snippet. */
  ciYaml?: string
}

/** What a check's run() returns for each problem it found. */
export interface FindingInput {
  message: string
  at?: Location
  fix?: Fix
  /** Overrides the check's default severity for this finding. */
  severity?: Severity
  /** Overrides/extends the check's catalog ids for this finding. */
  catalog?: string[]
  /** Machine-readable extras (figures, names). Never secrets. */
  details?: Record<string, unknown>
}

export interface Finding extends FindingInput {
  check: string
  severity: Severity
  catalog: string[]
  /** The runner (its `name`, or `#index` when unnamed) the finding is about; absent for global ones. */
  runner?: string
}

/** Everything a check may look at. Pure data: checks do no I/O. */
export interface CheckContext {
  config: LoadedConfig
  runner: LoadedRunner
  /** Facts gathered from the cluster once, before any check runs. Empty offline. */
  facts: Facts
  /** Parsed .gitlab-ci.yml when --ci-file was given (shape owned by src/runjob/ci-file). */
  ciFile?: unknown
  /** The executor's rendered objects for this runner (shape owned by src/executor). */
  rendered?: unknown
  /** Options that tune checks (e.g. thresholds). */
  options: CheckOptions
}

export interface CheckOptions {
  /** Whether doctor runs against a cluster (false: offline). */
  online: boolean
  /** Whether --live probes were allowed. */
  live: boolean
}

export type CheckRunResult = FindingInput[] | { skipped: string }

export interface Check {
  /** Stable forever: kebab-case with an area prefix, e.g. `config-unknown-key`. */
  id: string
  /** Area (group in output), e.g. `config`, `permissions`, `scheduling`. */
  area: string
  title: string
  /** What the check looks at and why it matters (goes to docs/checks.md). */
  description: string
  severity: Severity
  /** Facts that must have been gathered successfully, or the check is skipped naming why. */
  needs: FactName[]
  /** Troubleshooting-catalog ids this check relates to. */
  catalog: string[]
  /** `runner`: run once per Kubernetes runner (default). `global`: once per config file. */
  scope?: 'runner' | 'global'
  run(ctx: CheckContext): CheckRunResult
}

export function defineCheck(check: Check): Check {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(check.id)) throw new Error(`check id must be kebab-case with an area prefix: ${check.id}`)
  return check
}

export interface CheckResult {
  id: string
  area: string
  title: string
  severity: Severity
  status: CheckStatus
  /** For skipped/error: why (e.g. the verb that was forbidden). */
  reason?: string
  catalog: string[]
  findings: Finding[]
}
