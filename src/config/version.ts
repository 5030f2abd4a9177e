/**
 * Which runner version a configuration targets, and what the version table says for it.
 * The version comes from --runner-version, else the chart values' image tag
 * (`image.tag: alpine-v17.3.0`, or an `image:` string with such a tag), else the chart version a GitOps
 * wrapper pins (chart 0.N ships one runner minor: the mapping is below).
 */
import { FLAG_VERSIONS, KEY_VERSIONS, NEWEST_KNOWN, OLDEST_KNOWN, PERMISSION_VERSIONS, type FlagVersion, type KeyVersion, type PermissionVersion } from './versions.js'

export interface RunnerVersion {
  /** major.minor, e.g. "17.3". */
  version: string
  /** Where it was read, for messages: `--runner-version`, `image.tag "alpine-v17.3.0"`, `chart 0.73.1`. */
  from: string
}

/**
 * Chart minor → runner minor: [first chart minor, runner major, number of runner minors of that major].
 * Read from the chart's Chart.yaml (appVersion) in copies of charts 0.9 (12.3), 0.46 (15.5), 0.49 (15.8),
 * 0.73 (17.8) and 0.86 (18.9), and the runner's releases (12.0–12.10, 13.0–13.12, 14.0–14.10, then
 * twelve minors a year from 15.0).
 */
const CHART_MINORS: ReadonlyArray<readonly [number, number, number]> = [
  [6, 12, 11],
  [17, 13, 13],
  [30, 14, 11],
  [41, 15, 12],
  [53, 16, 12],
  [65, 17, 12],
  [77, 18, 12],
  [89, 19, 12],
]

/** The runner minor a chart version ships (`0.73.1` → `17.8`); undefined before chart 0.6 or when unparsable. */
export function runnerForChart(chart: string): string | undefined {
  const m = /^v?0\.(\d+)(?:\.\d+)?/.exec(chart.trim())
  if (!m) return undefined
  const minor = Number(m[1])
  for (const [first, major, count] of CHART_MINORS) if (minor >= first && minor < first + count) return `${major}.${minor - first}`
  return undefined
}

/** `17.3.0`, `v17.3`, `alpine-v17.3.0`, `ubuntu-v16.11.1`, `gitlab/gitlab-runner:alpine-v17.3.0` → `17.3`. */
export function parseRunnerVersion(s: string): string | undefined {
  const m = /(?:^|[:\-v])v?(\d{1,2})\.(\d{1,2})(?:\.\d+)?(?:$|[-+])/.exec(s.trim())
  if (!m) return undefined
  const major = Number(m[1])
  return major >= 10 && major <= 99 ? `${major}.${Number(m[2])}` : undefined
}

export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number)
  const [bm = 0, bn = 0] = b.split('.').map(Number)
  return am !== bm ? am - bm : an - bn
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** What gkr reads from a Chart.yaml: the runner chart's version and appVersion, or the gitlab-runner dependency of an umbrella chart. */
export interface ChartMeta {
  version?: string
  appVersion?: string
}

export function parseChartYaml(text: string): ChartMeta | undefined {
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*["']?([^"'\\s#]+)`, 'm').exec(text)?.[1]
  // An umbrella chart (or a wrapper named gitlab-runner): the version of its gitlab-runner dependency.
  const dep = /-\s*name:\s*["']?gitlab-runner["']?\s*\n((?:[ \t]+\w+:.*(?:\n|$))*)/.exec(text)
  const depVersion = dep ? /version:\s*["']?([^"'\s#]+)/.exec(dep[1]!)?.[1] : undefined
  if (depVersion) return { version: depVersion }
  // The runner chart itself (a vendored copy): its appVersion is a runner version, or it names its home.
  const appVersion = field('appVersion')
  const isRunnerChart = /^name:\s*["']?gitlab-runner["']?\s*$/m.test(text) && ((appVersion !== undefined && parseRunnerVersion(appVersion) !== undefined) || /gitlab-org\/(charts\/)?gitlab-runner|docs\.gitlab\.com\/runner/.test(text))
  if (!isRunnerChart) return undefined
  const version = field('version')
  return { ...(version ? { version } : {}), ...(appVersion ? { appVersion } : {}) }
}

export function detectRunnerVersion(input: { flag?: string; values?: Record<string, unknown>; chartVersion?: string; appVersion?: string }): RunnerVersion | undefined {
  if (input.flag) {
    const v = parseRunnerVersion(input.flag)
    return v ? { version: v, from: '--runner-version' } : undefined
  }
  const image = input.values?.image
  const tag = isObj(image) ? image.tag : undefined
  if (typeof tag === 'string') {
    const v = parseRunnerVersion(tag)
    if (v) return { version: v, from: `image.tag "${tag}"` }
  }
  if (typeof image === 'string') {
    const v = parseRunnerVersion(image)
    if (v) return { version: v, from: `image "${image}"` }
  }
  if (input.appVersion) {
    const v = parseRunnerVersion(input.appVersion)
    if (v) return { version: v, from: `Chart.yaml appVersion ${input.appVersion}` }
  }
  if (input.chartVersion) {
    const v = runnerForChart(input.chartVersion)
    if (v) return { version: v, from: `chart ${input.chartVersion}` }
  }
  return undefined
}

/** The schema path form of a key path: numbers become `[]` (`runners[].kubernetes.poll_timeout`). */
export function schemaPath(p: ReadonlyArray<string | number>): string {
  let s = ''
  for (const seg of p) s += typeof seg === 'number' ? '[]' : s ? `.${seg}` : seg
  return s
}

export function keyVersion(p: ReadonlyArray<string | number>): KeyVersion | undefined {
  return KEY_VERSIONS[schemaPath(p)]
}

export function flagVersion(name: string): FlagVersion | undefined {
  return FLAG_VERSIONS[name]
}

/** The default a flag has in a runner version (undefined when the flag does not exist there). */
export function flagDefaultIn(name: string, version: string): boolean | undefined {
  const f = FLAG_VERSIONS[name]
  if (!f || compareVersions(version, f.added) < 0 || (f.removed && compareVersions(version, f.removed) >= 0)) return undefined
  let d: boolean | undefined
  for (const [v, value] of f.defaults) if (compareVersions(version, v) >= 0) d = value
  return d ?? f.defaults[0]?.[1]
}

/** Whether a version is outside what the tables were read from. */
export function outsideTable(version: string): boolean {
  return compareVersions(version, OLDEST_KNOWN) < 0 || compareVersions(version, NEWEST_KNOWN) > 0
}

/** The default of every feature flag the runner defines in a version. */
export function flagDefaultsAt(version: string): Record<string, boolean> {
  const out: Record<string, boolean> = {}
  for (const name of Object.keys(FLAG_VERSIONS)) {
    const d = flagDefaultIn(name, version)
    if (d !== undefined) out[name] = d
  }
  return out
}

/**
 * A runner as a given version sees it: flags with that version's defaults (a flag the version does not
 * define has no effect), and [runners.kubernetes] without the keys that version does not read.
 */
export function runnerAtVersion<R extends { featureFlags: Record<string, boolean>; settings: Record<string, unknown>; path: ReadonlyArray<string | number> }>(runner: R, version: string, written: Record<string, unknown>): R {
  const defaults = flagDefaultsAt(version)
  const flags: Record<string, boolean> = { ...defaults }
  const table = isObj(written.feature_flags) ? written.feature_flags : {}
  for (const [name, v] of Object.entries(runner.featureFlags)) {
    if (!(name in defaults)) continue
    // Keep what the configuration sets; everything else takes the version's default.
    if (name in table || (Array.isArray(written.environment) && written.environment.some((e) => typeof e === 'string' && e.startsWith(`${name}=`)))) flags[name] = v
  }
  const kube = isObj(runner.settings.kubernetes) ? { ...runner.settings.kubernetes } : undefined
  if (kube) {
    for (const key of Object.keys(kube)) {
      const kv = KEY_VERSIONS[`runners[].kubernetes.${key}`]
      if (kv && (compareVersions(version, kv.added) < 0 || (kv.removed !== undefined && compareVersions(version, kv.removed) >= 0))) delete kube[key]
    }
  }
  return { ...runner, featureFlags: flags, settings: { ...runner.settings, ...(kube ? { kubernetes: kube } : {}) } }
}

/** Whether a runner version makes a call (for the rows of PERMISSION_VERSIONS; others: always). */
export function permissionInVersion(p: { apiGroup: string; resource: string; verb: string }, version: string, flags: Record<string, boolean>): boolean {
  const row = PERMISSION_VERSIONS.find((r) => r.apiGroup === p.apiGroup && r.resource === p.resource && r.verb === p.verb && !r.attachOnly)
  if (!row) return true
  if (row.since && compareVersions(version, row.since) < 0 && !(row.unlessFlag && flags[row.unlessFlag])) return false
  if (row.until && compareVersions(version, row.until) >= 0) return false
  return true
}

/** Calls a version makes that the newest runner no longer does (e.g. the attach-mode scripts ConfigMap). */
export function extraPermissionsInVersion(version: string, flags: Record<string, boolean>): PermissionVersion[] {
  return PERMISSION_VERSIONS.filter((r) => r.until && (!r.since || compareVersions(version, r.since) >= 0) && compareVersions(version, r.until) < 0 && (!r.attachOnly || !flags.FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY))
}

/** The runner image among a pod's container images (`…/gitlab-runner:alpine-v17.9.0`, not the helper's), and the version its tag names. */
export function runnerImageVersion(images: readonly string[]): { image: string; version: string } | undefined {
  for (const image of images) {
    const slash = image.lastIndexOf('/')
    const colon = image.indexOf(':', slash + 1)
    if (colon < 0) continue
    const repo = image.slice(0, colon).replace(/@.*$/, '')
    if (!/(^|\/)gitlab-runner$/.test(repo)) continue
    const version = parseRunnerVersion(image.slice(colon + 1).replace(/@.*$/, ''))
    if (version) return { image, version }
  }
  return undefined
}

/**
 * The version precedence, last step: what the configuration says (--runner-version, the values' image.tag
 * or image, Chart.yaml appVersion, the chart version a wrapper pins) wins; only when it says nothing is
 * the runner image of the manager pod the version. Returns the version to check against and, when the
 * cluster was consulted, a note saying what it showed.
 */
export function withClusterVersion(configured: RunnerVersion | undefined, pod: { namespace: string; name: string; images?: string[] }): { version?: RunnerVersion; note?: string } {
  const found = runnerImageVersion(pod.images ?? [])
  if (!found) return configured ? { version: configured } : {}
  const from = `the manager pod ${pod.namespace}/${pod.name}, image ${found.image}`
  if (!configured) return { version: { version: found.version, from }, note: `checked against runner ${found.version} (from ${from}): the configuration names no runner version` }
  if (configured.version === found.version) return { version: configured }
  return { version: configured, note: `the cluster runs runner ${found.version} (${from}), but the configuration targets ${configured.version} (from ${configured.from}): checked against ${configured.version}` }
}
