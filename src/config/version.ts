/**
 * Which runner version a configuration targets, and what the version table says for it.
 * The version comes from --runner-version, else the chart values' image tag
 * (`image.tag: alpine-v17.3.0`, or an `image:` string with such a tag), else the chart version a GitOps
 * wrapper pins (chart 0.N ships one runner minor: the mapping is below).
 */
import { FLAG_VERSIONS, KEY_VERSIONS, NEWEST_KNOWN, OLDEST_KNOWN, type FlagVersion, type KeyVersion } from './versions.js'

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

export function detectRunnerVersion(input: { flag?: string; values?: Record<string, unknown>; chartVersion?: string }): RunnerVersion | undefined {
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
