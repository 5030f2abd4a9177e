/**
 * From the lines that show symptoms to a diagnosis. A symptom alone is not a diagnosis: the same words
 * mean different things depending on who printed them and where in the job. Each hit is judged in its
 * context (its emitter, its stage, the command the job was running, the executor the banner names, the
 * port a refused connection went to) and is kept, moved to the entry it really belongs to, or dismissed
 * with the reason. The survivors are ranked by a confidence, and the answer is a diagnosis, a tentative
 * one (not enough context to be sure), a differential (the evidence fits several entries; what tells
 * them apart is named) or "nothing fits".
 */
import type { CatalogId } from './ids.js'
import { entry as entryOf } from './index.js'
import { relatedChecks } from './links.js'
import type { Evidence, Match, RawHit } from './match.js'
import type { LogStructure } from './structure.js'

/** What --config and --ci-file add: the runner the job ran on and what the jobs do. */
export interface DiagnoseContext {
  /** The runner's executor from config.toml (kubernetes, docker, …). */
  executor?: string
  /** The service account job pods run as (`service_account`), to recognise the job's own identity in RBAC denials. */
  jobServiceAccount?: string
  /** `helper_image_flavor` (empty means the default, alpine). */
  helperFlavor?: string
  /** The CI file runs kubectl/helm/terraform/oc in its scripts. */
  deployTools?: boolean
  /** The CI file uses a docker:dind service. */
  dind?: boolean
}

export interface Dismissed {
  id: CatalogId
  lineNumber: number
  line: string
  reason: string
}

export interface Candidate {
  id: CatalogId
  title: string
  confidence: number
  /** The doctor check or the one command that tells this candidate from the others. */
  tellApart: string
}

export type Answer =
  | { kind: 'diagnosis'; id: CatalogId; confidence: number }
  | { kind: 'tentative'; id: CatalogId; confidence: number; why: string }
  | { kind: 'differential'; candidates: Candidate[] }
  | { kind: 'none' }

export interface Diagnosis {
  matches: Match[]
  answer: Answer
  structure: LogStructure
  dismissed: Dismissed[]
}

/**
 * Resources the executor itself reads or writes with a default configuration (see PERMISSION_TABLE in
 * src/executor/permissions.ts). A refusal on anything else came from a job's tool.
 */
export const EXECUTOR_RESOURCES: ReadonlySet<string> = new Set(['pods', 'pods/attach', 'pods/exec', 'pods/log', 'secrets', 'configmaps', 'services', 'events', 'serviceaccounts', 'namespaces', 'selfsubjectaccessreviews'])

/** Entries about the job pod of the Kubernetes executor: meaningless under another executor or CI system. */
const JOB_POD_ENTRIES: ReadonlySet<CatalogId> = new Set<CatalogId>([
  'error-could-not-resolve-host-examplecom',
  'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running',
  'curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443',
  'mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows',
  'build-pods-are-assigned-the-worker-nodes-iam-role-instead-of-runner-iam-role',
  'cache-related-permission-denied-errors',
  'failed-to-reserve-container-name-for-init-permissions-container-when-gcs-fuse-csi-driver-is-used',
  'services-not-supported-with-windows-containers',
])

/** Entries about a call from the runner (or kubectl) to the Kubernetes API server. */
const API_TRANSPORT: ReadonlySet<CatalogId> = new Set<CatalogId>([
  'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api',
  'dial-tcp-xxxxxxxxxx-io-timeout',
  'error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running',
])

/** Ports a Kubernetes API server listens on (and plain-HTTP 8080 of old local setups). */
const API_PORTS = new Set(['443', '6443', '8443', '8080', '16443', '9443'])

const TELL_APART: Partial<Record<CatalogId, string>> = {
  'oom-killed': "kubectl get pod <pod> -o jsonpath='{.status.containerStatuses[*].lastState.terminated.reason}' says OOMKilled only for memory kills",
  'node-pressure-eviction': 'kubectl get events -n <namespace> --field-selector reason=Evicted shows "The node was low on resource"',
  'disruption-eviction': "kubectl get pod <pod> -o jsonpath='{.status.conditions}' shows a DisruptionTarget condition naming who evicted it",
  'rbac-forbidden': 'gkr doctor --only cluster-permissions checks what the executor identity may do',
  'job-rbac-forbidden': 'kubectl auth can-i <verb> <resource> -n <namespace> --as <the user in the message>',
  'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running': 'the job log banner: only the Kubernetes executor runs docker:dind as a sidecar reachable on tcp://docker:2375 or localhost',
  'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api': "curl -k https://<api-server>/version from the runner's pod",
  'context-deadline-exceeded': 'kube-apiserver and etcd request latency (gkr doctor --only cluster-api)',
  'kubelet-unreachable': 'kubectl logs <any pod on that node>: fails the same way only when the kubelet path is broken',
}

interface Judged {
  id: CatalogId
  fields: Record<string, string>
  /** Other entries the same evidence fits (a differential). */
  alternatives?: CatalogId[]
  /** Highest confidence the context allows (0–100). */
  cap?: number
  why?: string
}

/** Decides what one hit is evidence of, in its context; a string is the reason it is dismissed. */
function judge(hit: RawHit, s: LogStructure, ctx: DiagnoseContext): Judged | string {
  const { evidence: ev } = hit
  const fields = { ...hit.fields }
  const id = hit.entry
  const executor = ctx.executor ?? s.executor
  const foreign = s.foreignCi
  const jobTool = ev.emitter === 'kubectl' || ev.emitter === 'helm' || ev.emitter === 'terraform' || ev.emitter === 'job'

  if (JOB_POD_ENTRIES.has(id)) {
    if (foreign) return `printed in a ${foreign} log: this entry is about the Kubernetes executor's job pod`
    if (executor && executor !== 'kubernetes') return `the job ran on the ${executor} executor; this entry is about the Kubernetes executor's job pod`
  }

  if (id === 'rbac-forbidden' || id === 'job-rbac-forbidden') {
    normaliseRbac(fields)
    const base = fields.resource?.split('/')[0]
    const sa = ctx.jobServiceAccount
    const subjectIsJob = Boolean(sa && fields.user?.endsWith(`:${sa}`))
    const foreignResource = Boolean(fields.resource && !EXECUTOR_RESOURCES.has(fields.resource) && !EXECUTOR_RESOURCES.has(base ?? ''))
    // An in-cluster program's own log line (klog's `E0608 03:34:11.496995 1 file.go:12]` header, or Go's
    // standard `2020/03/30 13:46:03` one) in a log with nothing of a CI job around it, refused on a resource
    // the executor never touches: a controller's or application's own identity, neither runner nor job.
    if (foreignResource && GO_PROGRAM_LINE.test(ev.line) && ev.emitter === 'unknown' && !ev.command && !ev.stage && !ciStructure(s, ctx)) {
      return `an in-cluster program's own log line (Go log format, no CI job in the log) refused on ${fields.resource}: that workload's service account, not the runner's or a job's`
    }
    // `Error: <what it was doing>: … is forbidden` is a command-line tool's own error (cobra-style); the runner prints `ERROR:`.
    const cliError = /^Error: (?!Job failed)[a-z]/.test(ev.line)
    if (id === 'rbac-forbidden' && (jobTool || subjectIsJob || foreignResource || cliError)) {
      const why = cliError && !jobTool ? "printed as a command-line tool's own error (`Error: …`), not by the runner" : jobTool ? `printed by ${ev.command ? `\`${ev.command.split(/\s+/)[0]}\` in the job script` : `the job's ${ev.emitter === 'job' ? 'own command' : ev.emitter}`}` : subjectIsJob ? `the subject is the job pods' service account (${sa})` : `the executor never touches ${fields.resource}`
      return { id: 'job-rbac-forbidden', fields, why }
    }
    // The CI file deploys with kubectl/helm and the log does not say who printed the refusal: either fits.
    if (id === 'rbac-forbidden' && ctx.deployTools && ev.emitter === 'unknown') return { id, fields, alternatives: ['job-rbac-forbidden'] }
    return { id, fields }
  }

  // Kyverno's podSecurity rules quote Pod Security Admission's wording inside their own denial.
  if (id === 'pod-security-admission' && /Validation rule '[^']+' failed\. It violates PodSecurity/.test(ev.line)) {
    return { id: 'webhook-denied', fields, why: "a Kyverno podSecurity rule's message: the policy engine's webhook refused the pod, not the API server's Pod Security Admission" }
  }

  // Kyverno records a PolicyViolation event for audit-mode policies too; only a blocked request was refused.
  if (id === 'webhook-denied' && /\bPolicyViolation\b/.test(ev.line) && !/\bblocked\b|denied the request/.test(ev.line)) {
    return 'a PolicyViolation event without "blocked": an audit-mode policy reported the object but let it through'
  }

  if (id === 'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running') {
    if (fields.daemon?.startsWith('unix:')) return 'the client used the local Docker socket: no dind service was configured (or another CI system ran the job)'
    if (!executor && !ctx.dind) return { id, fields, cap: 55, why: 'the log does not say which executor ran the job' }
    return { id, fields }
  }

  if (API_TRANSPORT.has(id)) {
    const port = /:(\d+)$/.exec(fields.address ?? '')?.[1]
    const apiPath = /\/apis?\/|\/version\b|\/healthz\b/.test(ev.line) || /The connection to the server/.test(ev.line)
    if (port === '10250') return { id: 'kubelet-unreachable', fields }
    if (port === '2379' || port === '2380') return { id: 'context-deadline-exceeded', fields: { ...fields, etcdError: 'etcd unreachable' }, why: `port ${port} is etcd: the API server lost its storage` }
    if (port === '2375' || port === '2376') return `port ${port} is a Docker daemon, not the Kubernetes API`
    if (port && !API_PORTS.has(port) && !apiPath) return `port ${port} is a service the job or application talks to, not the Kubernetes API`
    if (ev.emitter === 'job' && !apiPath) return "printed by the job's own command, and nothing in the line points at the Kubernetes API"
    return { id, fields }
  }

  if (id === 'context-deadline-exceeded') {
    // client-go's own rate limiter (kubectl, helm, controllers): the client throttled itself and its wait ran out.
    if (/client rate limiter Wait returned an error/.test(ev.line)) return "the client's own rate limiter (client-go's QPS/burst in kubectl, helm or a controller) ran out of time: requests were throttled before they were sent, not answered late by the API server"
    if (/\bError: context deadline exceeded\b/.test(ev.line) || (ev.emitter === 'kubelet' && !/etcd|apiserver/i.test(ev.line))) return 'a kubelet event: the container runtime timed out creating the container on the node, not a call to the API server'
    if (ev.emitter === 'job' && !/etcd|apiserver|kube/i.test(ev.line)) return "printed by the job's own command: an application timeout, not the runner's API call"
    return { id, fields }
  }

  if (id === 'job-failed-system-failure-timed-out-waiting-for-pod-to-start' && hit.weight < 30) {
    if (s.stages.some((x) => /step_script|build_script|after_script/.test(x)) || s.verdict?.kind === 'success') return 'the pod started later in this log'
    return { id, fields, cap: 55, why: 'the log shows the pod pending but not how the wait ended' }
  }

  // A bare certificate error names no caller: only the runner's own calls (its API, git fetching sources) are this entry.
  if (id === 'gitlab-unreachable' && hit.weight < 30 && ev.emitter !== 'runner' && !/\/api\/v4\/(?:jobs|runners)\b|unable to access '|couldn't execute/.test(ev.line)) {
    return "a certificate error in another program's request (not the runner's calls to GitLab or its git fetch)"
  }

  if (id === 'failed-to-reserve-container-name-for-init-permissions-container-when-gcs-fuse-csi-driver-is-used' && fields.container && !/init-permissions/.test(fields.container) && !/gcs-?fuse/i.test(ev.line)) {
    return 'the documented case is the init-permissions container with the GCS FUSE CSI driver; for other containers this is the runtime retrying a slow create'
  }

  if (id === 'oom-killed' && fields.exitCode === '137' && !/OOMKilled/.test(ev.line)) {
    return { id, fields, alternatives: ['node-pressure-eviction', 'disruption-eviction'], cap: 55, why: 'exit code 137 is a SIGKILL; only the reason OOMKilled proves a memory kill' }
  }

  if (id === 'error-could-not-resolve-host-examplecom') {
    const flavor = ctx.helperFlavor
    if (flavor !== undefined) fields.helperFlavor = flavor || 'alpine (default)'
    if (!executor) return { id, fields, cap: 60 }
  }

  if (JOB_POD_ENTRIES.has(id) && !executor) return { id, fields, cap: 60 }
  return { id, fields }
}

/** The header of a line a Go program logged itself: klog (`E0608 03:34:11.496995  1 reflector.go:178]`) or Go's standard log. */
const GO_PROGRAM_LINE = /^(?:[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w./-]+:\d+\]|\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )/

/** Whether anything says the log is a CI job's: the runner's banner or executor, its stages, its verdict, or --config. */
function ciStructure(s: LogStructure, ctx: DiagnoseContext): boolean {
  return Boolean(ctx.executor ?? s.executor ?? s.foreignCi ?? s.verdict) || s.stages.length > 0
}

/** The pre-1.12 phrasing names the resource as `deployments.apps`: split it into resource and group. */
function normaliseRbac(f: Record<string, string>): void {
  if (f.oldResource) {
    const [res, ...rest] = f.oldResource.split('/')
    const dot = res!.indexOf('.')
    f.resource = (dot > 0 ? res!.slice(0, dot) : res!) + (rest.length ? `/${rest.join('/')}` : '')
    if (dot > 0) f.group = res!.slice(dot + 1)
    delete f.oldResource
  }
}

interface Acc {
  id: CatalogId
  weight: number
  fields: Record<string, string>
  evidence: Evidence[]
  lineNumbers: number[]
  occurrences: number
  alternatives?: CatalogId[]
  cap?: number
  why?: string
}

const MAX_EVIDENCE = 5

export function diagnose(hits: readonly RawHit[], extra: ReadonlyMap<CatalogId, number>, s: LogStructure, ctx: DiagnoseContext = {}): Diagnosis {
  const acc = new Map<CatalogId, Acc>()
  const dismissed: Dismissed[] = []
  const lastFinal = new Map<CatalogId, CatalogId | undefined>()
  for (const hit of hits) {
    const j = judge(hit, s, ctx)
    if (typeof j === 'string') {
      if (dismissed.length < 20) dismissed.push({ id: hit.entry, lineNumber: hit.evidence.lineNumber, line: hit.evidence.line, reason: j })
      lastFinal.set(hit.entry, undefined)
      continue
    }
    lastFinal.set(hit.entry, j.id)
    const a = acc.get(j.id)
    if (!a) {
      acc.set(j.id, { id: j.id, weight: hit.weight, fields: j.fields, evidence: [hit.evidence], lineNumbers: [hit.evidence.lineNumber], occurrences: 1, alternatives: j.alternatives, cap: j.cap, why: j.why })
      continue
    }
    a.occurrences++
    if (a.lineNumbers.length < 10) a.lineNumbers.push(hit.evidence.lineNumber)
    // Firmer evidence lifts the caps and ambiguities weaker lines left.
    if (j.cap === undefined) a.cap = undefined
    if (!j.alternatives) a.alternatives = undefined
    if (hit.weight > a.weight) {
      // The most specific line leads the evidence and supplies the fields.
      a.weight = hit.weight
      // Names only the weaker line carried (a Kyverno block's policy and rule) stay.
      a.fields = { ...a.fields, ...j.fields }
      a.why = j.why
      a.evidence = [hit.evidence, ...a.evidence].slice(0, MAX_EVIDENCE)
    } else if (a.evidence.length < MAX_EVIDENCE) a.evidence.push(hit.evidence)
  }
  // Hits past the per-entry limit count where the last kept hit of their entry went.
  for (const [raw, n] of extra) {
    const final = lastFinal.get(raw)
    const a = final ? acc.get(final) : undefined
    if (a) a.occurrences += n
  }

  const matches: Match[] = [...acc.values()].map((a) => {
    const e = entryOf(a.id)
    let conf = Math.min(0.9, 0.3 + a.weight / 100) + (a.occurrences > 1 ? 0.05 : 0)
    if (a.cap !== undefined) conf = Math.min(conf, a.cap / 100)
    const first = a.evidence[0]!
    return {
      id: a.id,
      title: e.title,
      ref: e.ref,
      line: first.line,
      lineNumber: first.lineNumber,
      fields: a.fields,
      weight: a.weight,
      occurrences: a.occurrences,
      lineNumbers: [...a.lineNumbers].sort((x, y) => x - y),
      confidence: Math.round(Math.min(0.95, conf) * 100),
      evidence: a.evidence,
      ...(a.alternatives ? { alternatives: a.alternatives } : {}),
      ...(a.why ? { why: a.why } : {}),
    }
  })
  matches.sort((x, y) => y.confidence - x.confidence || y.weight - x.weight || x.lineNumber - y.lineNumber)
  return { matches, answer: answerOf(matches), structure: s, dismissed }
}

function candidate(id: CatalogId, confidence: number): Candidate {
  const e = entryOf(id)
  const checks = relatedChecks(e)
  return { id, title: e.title, confidence, tellApart: TELL_APART[id] ?? (checks.length ? `gkr doctor --only ${checks.join(',')}` : `gkr catalog show ${id}`) }
}

function answerOf(matches: readonly Match[]): Answer {
  const top = matches[0]
  if (!top) return { kind: 'none' }
  if (top.alternatives?.length) {
    return { kind: 'differential', candidates: [candidate(top.id, top.confidence), ...top.alternatives.map((id, i) => candidate(id, Math.max(10, top.confidence - 10 * (i + 1))))] }
  }
  const second = matches[1]
  if (second && second.confidence >= 50 && second.confidence >= top.confidence - 5 && !sameStory(top.id, second.id)) {
    return { kind: 'differential', candidates: matches.filter((m) => m.confidence >= top.confidence - 5).slice(0, 3).map((m) => candidate(m.id, m.confidence)) }
  }
  if (top.confidence < 60) return { kind: 'tentative', id: top.id, confidence: top.confidence, why: top.why ?? 'the evidence is thin' }
  return { kind: 'diagnosis', id: top.id, confidence: top.confidence }
}

/** Pairs that describe one failure from two sides (the runner's timeout and the reason the pod waited). */
function sameStory(a: CatalogId, b: CatalogId): boolean {
  const waited = 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'
  return a === waited || b === waited
}
