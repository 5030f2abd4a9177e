/**
 * The runner-case harness: expectation cases transcribed from GitLab Runner's own unit tests, run
 * against gkr's render. Each YAML file in this folder is a list of cases; the case format:
 *
 *   source:   { file, test, case }         the Go test file, test function and case name
 *   runner:   TOML lines of [[runners]]      (name, token, shell, environment …)
 *   kubernetes: TOML body of [runners.kubernetes]
 *   feature_flags: TOML body of [runners.feature_flags]
 *   job:      a .gitlab-ci.yml job mapping   (image, services, variables …; parsed by gkr's CI parser)
 *   variables: predefined variables the job sees (CI_* as GitLab sends them)
 *   input:    { jobId, projectId, concurrentId }  (the runner's tests run with 0, 0, 0)
 *   expect:   { path: value }                exact values, compared with deep equality; null = absent
 *   anyOrder: [path]                         arrays the runner's test compares without order
 *   expectMatch: { path: regexp }            names that end in the runner's random suffix
 *   problem:  the runner's error (exact text, or the part after its prefixes) when it fails the job
 *   warning:  a message the runner logs without failing the job
 *   deviation: { why, gkr: { path: value } } where gkr deliberately differs: asserted both ways
 *
 * Paths: `pod.spec.nodeSelector`, `container[build].securityContext`, `pod.metadata.annotations['a/b']`,
 * `pdb.spec.minAvailable`, `secrets[0].type`, `services[0].spec.ports`, `service[build].spec` (the proxy Service named
 * build-<suffix>), `namespace`.
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { parseConfigText } from '../../../src/config/load.js'
import { parseCiSource } from '../../../src/ci/parse.js'
import { renderJob, type RenderedJob } from '../../../src/executor/render.js'

export interface RunnerCase {
  source: { file: string; test: string; case: string }
  runner?: string
  kubernetes?: string
  feature_flags?: string
  job?: Record<string, unknown>
  variables?: Record<string, string>
  input?: { jobId?: number; projectId?: number; concurrentId?: number; namespace?: string }
  expect?: Record<string, unknown>
  /** Paths whose arrays the runner's test compares without order (ElementsMatch, Contains). */
  anyOrder?: string[]
  /** Paths whose string value must match a regular expression (names with the runner's random suffix). */
  expectMatch?: Record<string, string>
  problem?: string
  warning?: string
  deviation?: { why: string; gkr: Record<string, unknown> }
}

export const CASES_DIR = path.dirname(new URL(import.meta.url).pathname)

export function loadCases(): Array<{ file: string; c: RunnerCase }> {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) => (parseYaml(readFileSync(path.join(CASES_DIR, file), 'utf8')) as RunnerCase[]).map((c) => ({ file, c })))
}

export function renderCase(c: RunnerCase): RenderedJob {
  const runnerLines = c.runner ?? 'token = ""'
  const toml = `[[runners]]\n${/^name\s*=/m.test(runnerLines) ? '' : 'name = "runner"\n'}executor = "kubernetes"\n${runnerLines}\n[runners.feature_flags]\n${c.feature_flags ?? ''}\n[runners.kubernetes]\n${c.kubernetes ?? ''}\n`
  const runner = parseConfigText(toml, '/cases/config.toml').runners[0]!
  // The runner's tests mostly build a pod without naming an image; a job always has one (else Prepare fails
  // with "no image specified"), so cases without one get test-image. `image: null` means no image at all.
  const hasImage = (c.job && 'image' in c.job) || /^image\s*=/m.test(c.kubernetes ?? '')
  const jobDef: Record<string, unknown> = { script: ['true'], ...(hasImage ? {} : { image: 'test-image' }), ...(c.job ?? {}) }
  if (jobDef.image === null) delete jobDef.image
  const job = parseCiSource(stringify({ job: jobDef }), '/cases/.gitlab-ci.yml').jobs.job!
  const input = c.input ?? {}
  return renderJob({
    runner,
    job,
    variables: c.variables ?? {},
    jobId: input.jobId ?? 0,
    projectId: input.projectId ?? 0,
    concurrentId: input.concurrentId ?? 0,
    ...(input.namespace ? { namespace: input.namespace } : {}),
  })
}

const SEGMENT = /([^.[\]]+)|\[(?:'([^']*)'|(\d+)|([^\]]+))\]/g

/** The value at a path of the case syntax; undefined when any step is missing. */
export function at(r: RenderedJob, p: string): unknown {
  const segments = [...p.matchAll(SEGMENT)]
  let cur: unknown = r
  for (let i = 0; i < segments.length; i++) {
    const [, key, quoted, index, name] = segments[i]!
    if (i === 0 && key === 'container') {
      // container[name]: any container of the pod, init containers included.
      cur = [...(r.pod.spec?.initContainers ?? []), ...(r.pod.spec?.containers ?? [])]
      continue
    }
    if (i === 0 && key === 'service') {
      cur = r.services.map((svc) => ({ ...svc, name: svc.metadata?.name?.replace(/-[a-z0-9]{8}$/, '') }))
      continue
    }
    if (i === 0 && key === 'pdb') {
      cur = r.objects.find((o) => o.kind === 'PodDisruptionBudget')
      continue
    }
    if (cur === undefined || cur === null) return undefined
    if (key !== undefined) cur = (cur as Record<string, unknown>)[key]
    else if (quoted !== undefined) cur = (cur as Record<string, unknown>)[quoted]
    else if (index !== undefined) cur = (cur as unknown[])[Number(index)]
    else cur = Array.isArray(cur) ? cur.find((x) => (x as { name?: string }).name === name) : undefined
  }
  return cur
}
