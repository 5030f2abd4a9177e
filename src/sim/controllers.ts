/**
 * The workload controllers of the simulated cluster's controller manager: Jobs run their pods to
 * completion (or to the backoff limit), Deployments keep a ReplicaSet per pod template, ReplicaSets
 * keep their number of pods, and CronJobs start Jobs on their schedule, on the scenario clock. They
 * work as the real ones do, from the store's changes: each change to a workload or to an object it
 * owns queues one pass over that workload (on the next turn of the event loop), and a pass writes
 * only what changed. Pods they create go through the API server's admission (LimitRange, the
 * ServiceAccount plugin, Pod Security, webhooks, quota); a refusal is a `FailedCreate` event. What
 * they own is found through the store's owner index, never by listing a namespace.
 */
import type { Obj, Store, WatchEvent } from './store.js'
import { randomSuffix } from './store.js'
import { RESOURCES, type ResourceDef } from './resources.js'
import type { Scenario } from './scenario.js'
import { StatusError } from './status.js'
import { mutate, validate, type AdmissionContext } from './admission.js'
import { checkNamespaceLifecycle } from './namespaces.js'
import { qosClass } from './defaults.js'
import { validateObject } from './validation.js'
import { nextAfter, parseSchedule } from './cron.js'
import { rfc3339 } from './time.js'

const def = (group: string, resource: string): ResourceDef => RESOURCES.find((r) => r.group === group && r.resource === resource)!
const PODS = def('', 'pods')
const EVENTS = def('', 'events')
const JOBS = def('batch', 'jobs')
const CRONJOBS = def('batch', 'cronjobs')
const DEPLOYMENTS = def('apps', 'deployments')
const REPLICASETS = def('apps', 'replicasets')
const KINDS = [JOBS, CRONJOBS, DEPLOYMENTS, REPLICASETS]

/** At most this many pods per pass (the real controllers' burst is 500): a huge `replicas` cannot flood the loop. */
const BURST = 500
/** The job controller's pod back-off after a failure: 10 s, doubling, at most 6 minutes. */
const JOB_BACKOFF_S = 10
const JOB_BACKOFF_MAX_S = 360

type Rec = Record<string, unknown>
type Condition = { type: string; status: string; reason?: string; message?: string; lastProbeTime?: string; lastTransitionTime?: string; lastUpdateTime?: string }
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {})
/** A count from a spec: a whole number ≥ 0, else the default. */
const count = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : dflt)
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
/** The status without the fields the API omits when empty (zero counts the types mark omitempty). */
const compact = (o: Rec): Rec => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
const phaseOf = (p: Obj): string | undefined => (p.status as { phase?: string } | undefined)?.phase
const terminal = (p: Obj): boolean => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed'
const conditionsOf = (o: Obj): Condition[] => (Array.isArray(rec(o.status).conditions) ? (rec(o.status).conditions as Condition[]) : [])
const isTrue = (o: Obj, type: string): boolean => conditionsOf(o).some((c) => c.type === type && c.status === 'True')
const podReady = (p: Obj): boolean => !p.metadata.deletionTimestamp && phaseOf(p) === 'Running' && isTrue(p, 'Ready')
/** The owner reference that marks `uid` as the object's controller. */
const controlledBy = (o: Obj, uid: string | undefined): boolean => (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true)
const controllerOf = (o: Obj): { kind: string; name: string; uid: string } | undefined => (o.metadata.ownerReferences ?? []).find((r) => r.controller === true)
const ownerRef = (d: ResourceDef, o: Obj): NonNullable<Obj['metadata']['ownerReferences']>[number] => ({ apiVersion: `${d.group}/${d.version}`, kind: d.kind, name: o.metadata.name!, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true })

/**
 * A condition list with `next` set: one whose status, reason and message are unchanged is kept as it
 * is; otherwise its `times` are now, except lastTransitionTime, which only moves when the status flips.
 */
function setCondition(list: Condition[], next: Condition, now: string, times: Array<'lastProbeTime' | 'lastTransitionTime' | 'lastUpdateTime'>): Condition[] {
  const old = list.find((c) => c.type === next.type)
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) return list
  const c: Condition = { type: next.type, status: next.status }
  for (const t of times) c[t] = t === 'lastTransitionTime' && old?.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : now
  if (next.reason !== undefined) c.reason = next.reason
  if (next.message !== undefined) c.message = next.message
  return old ? list.map((x) => (x === old ? c : x)) : [...list, c]
}

/** The pod-template-hash of a template: its 32-bit FNV-1a, each decimal digit mapped to the name alphabet. */
export function templateHash(template: unknown): string {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(JSON.stringify(template ?? {}))) h = Math.imul(h ^ byte, 0x01000193) >>> 0
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
  return [...String(h)].map((d) => alphabet[d.charCodeAt(0) % alphabet.length]).join('')
}

/** An intOrString like `25%` of `total` (rounded down, or up), or the number itself. */
function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null
  if (!m) return 0
  const x = (Number(m[1]) * total) / 100
  return roundUp ? Math.ceil(x) : Math.floor(x)
}

export class WorkloadControllers {
  /** Errors in a pass: bugs, kept for `sim.bugs()` rather than thrown into the store's emitter. */
  readonly bugs: unknown[] = []
  private readonly queued = new Set<string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  /** Pods (or Jobs) being created per owner uid: counted as there, so two passes do not both create one. */
  private readonly inFlight = new Map<string, number>()
  /** Per Job uid: the pods already counted in its succeeded/failed totals (pods may go away later). */
  private readonly counted = new Map<string, Set<string>>()
  /** Per Job uid: not before this time (real ms) does it create a pod again after a failure. */
  private readonly backOffUntil = new Map<string, number>()
  /** Per CronJob key: the timer of its next schedule time. */
  private readonly cronTimers = new Map<string, NodeJS.Timeout>()
  /** Finished Jobs a CronJob's pass has seen (its SawCompletedJob event is sent once). */
  private readonly sawFinished = new Set<string>()
  private readonly startedAt = Date.now()
  private stopped = false
  private eventSeq = 0

  private readonly onChange = (e: WatchEvent): void => {
    const { group, resource } = e.def
    const o = e.object
    const ns = o.metadata.namespace
    const owner = controllerOf(o)
    if (group === '' && resource === 'pods') {
      if (owner?.kind === 'Job') this.queue(JOBS, ns, owner.name)
      else if (owner?.kind === 'ReplicaSet') this.queue(REPLICASETS, ns, owner.name)
      return
    }
    const d = KINDS.find((k) => k.group === group && k.resource === resource)
    if (!d) return
    if (e.type === 'DELETED') this.forget(d, o)
    else this.queue(d, ns, o.metadata.name!)
    if (owner?.kind === 'CronJob' && d === JOBS) this.queue(CRONJOBS, ns, owner.name)
    if (owner?.kind === 'Deployment' && d === REPLICASETS) this.queue(DEPLOYMENTS, ns, owner.name)
  }

  constructor(private readonly store: Store, private readonly scenario: Scenario, private readonly factor: number) {
    store.events.on('change', this.onChange)
    for (const d of KINDS) for (const o of store.list(d, undefined, { shared: true })) this.queue(d, o.metadata.namespace, o.metadata.name!)
  }

  stop(): void {
    this.stopped = true
    this.store.events.off('change', this.onChange)
    for (const t of [...this.timers, ...this.cronTimers.values()]) clearTimeout(t)
  }

  /** The scenario clock (epoch ms): it started with the simulator and runs 1/clockFactor times as fast. */
  private simNow(): number {
    return this.factor > 0 ? this.startedAt + (Date.now() - this.startedAt) / this.factor : Date.now()
  }

  /** Real milliseconds until a time on the scenario clock. */
  private realDelay(simMs: number): number {
    return Math.max(0, (simMs - this.simNow()) * this.factor)
  }

  /** Runs `fn` after `ms` on the scenario clock. */
  private later(realMs: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.stopped) fn()
    }, realMs)
    this.timers.add(t)
    return t
  }

  private forget(d: ResourceDef, o: Obj): void {
    const uid = o.metadata.uid!
    this.counted.delete(uid)
    this.backOffUntil.delete(uid)
    this.sawFinished.delete(uid)
    if (d === CRONJOBS) {
      const k = `${o.metadata.namespace}/${o.metadata.name}`
      clearTimeout(this.cronTimers.get(k))
      this.cronTimers.delete(k)
    }
  }

  private queue(d: ResourceDef, ns: string | undefined, name: string): void {
    const key = `${d.resource}\u0000${ns ?? ''}\u0000${name}`
    if (this.queued.has(key) || this.stopped) return
    this.queued.add(key)
    setImmediate(() => {
      this.queued.delete(key)
      if (this.stopped) return
      const pass = d === JOBS ? this.syncJob(ns, name) : d === REPLICASETS ? this.syncReplicaSet(ns, name) : d === DEPLOYMENTS ? this.syncDeployment(ns, name) : this.syncCronJob(ns, name)
      pass.catch((err: unknown) => this.failed(err))
    })
  }

  /** An object that went (404) or changed (409) in between: the next change queues another pass. Anything else is a bug. */
  private failed(err: unknown): void {
    if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) this.bugs.push(err)
  }

  private event(d: ResourceDef, o: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const now = rfc3339(Date.now())
    this.store.create(EVENTS, o.metadata.namespace, {
      metadata: { name: `${o.metadata.name}.${Date.now().toString(16)}${(this.eventSeq++).toString(16).padStart(6, '0')}`, namespace: o.metadata.namespace },
      involvedObject: { kind: d.kind, namespace: o.metadata.namespace, name: o.metadata.name, uid: o.metadata.uid, apiVersion: `${d.group}/${d.version}`, resourceVersion: o.metadata.resourceVersion },
      reason, message, type, count: 1, source: { component },
      firstTimestamp: now, lastTimestamp: now, eventTime: null, reportingComponent: component, reportingInstance: '',
    })
  }

  /** The owner's dependents of one kind that it controls. */
  private owned(owner: Obj, kind: string): Obj[] {
    return this.store.dependents(owner.metadata.uid!).filter((o) => o.kind === kind && controlledBy(o, owner.metadata.uid))
  }

  private writeStatus(d: ResourceDef, o: Obj, status: Rec, meta?: Obj['metadata']): void {
    if (same(compact(status), o.status ?? {}) && !meta) return
    this.store.update(d, o.metadata.namespace, { ...o, ...(meta ? { metadata: meta } : {}), status: compact(status) }, { checkRv: false })
  }

  /**
   * Creates a pod of `owner` from its template, as a controller does through the API: admission
   * mutates and judges it; a refusal is a `FailedCreate` event on the owner. Not created when the
   * owner went away while admission ran.
   */
  private async createPod(d: ResourceDef, owner: Obj, template: Rec, component: string, extraLabels: Record<string, string> = {}): Promise<void> {
    const ns = owner.metadata.namespace!
    const meta = rec(template.metadata)
    const pod: Obj = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: `${owner.metadata.name!.slice(0, 57)}-${randomSuffix()}`, generateName: `${owner.metadata.name}-`, namespace: ns,
        labels: { ...(rec(meta.labels) as Record<string, string>), ...extraLabels },
        ...(Object.keys(rec(meta.annotations)).length ? { annotations: { ...(rec(meta.annotations) as Record<string, string>) } } : {}),
        ownerReferences: [ownerRef(d, owner)],
      },
      spec: structuredClone(rec(template.spec)),
    }
    const knobs = this.scenario.knobs
    const ctx: AdmissionContext = { store: this.store, def: PODS, namespace: ns, obj: pod, operation: 'CREATE', dryRun: false, webhooks: knobs.webhooks ?? {}, policies: knobs.policies ?? [], ...(knobs.podSecurity ? { podSecurity: knobs.podSecurity } : {}), sleep: (ms) => new Promise((r) => setTimeout(r, ms * this.factor)), warnings: [], auditAnnotations: {}, username: `system:serviceaccount:kube-system:${component}` }
    const uid = owner.metadata.uid!
    this.inFlight.set(uid, (this.inFlight.get(uid) ?? 0) + 1)
    try {
      checkNamespaceLifecycle(this.store, PODS, ns, pod)
      validateObject(PODS, pod)
      mutate(ctx)
      pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) }
      await validate(ctx)
      if (this.stopped || this.store.tryGet(d, ns, owner.metadata.name!)?.metadata.uid !== uid) return
      const created = this.store.create(PODS, ns, pod)
      this.event(d, owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, component)
    } catch (err) {
      if (!(err instanceof StatusError)) throw err
      if (this.store.tryGet(d, ns, owner.metadata.name!)?.metadata.uid === uid) this.event(d, owner, 'Warning', 'FailedCreate', `Error creating: ${err.message}`, component)
    } finally {
      this.inFlight.set(uid, (this.inFlight.get(uid) ?? 1) - 1)
      this.queue(d, ns, owner.metadata.name!)
    }
  }

  // ---------------------------------------------------------------- Job

  private async syncJob(ns: string | undefined, name: string): Promise<void> {
    const job = this.store.tryGet(JOBS, ns, name)
    if (!job || job.metadata.deletionTimestamp || isTrue(job, 'Complete') || isTrue(job, 'Failed')) return
    const uid = job.metadata.uid!
    const spec = rec(job.spec)
    const template = rec(spec.template)
    const status = rec(job.status)
    const pods = this.owned(job, 'Pod')
    const counted = this.counted.get(uid) ?? new Set<string>()
    this.counted.set(uid, counted)
    let succeeded = count(status.succeeded, 0)
    let failed = count(status.failed, 0)
    let newFailures = 0
    for (const p of pods) {
      if (!terminal(p) || counted.has(p.metadata.uid!)) continue
      counted.add(p.metadata.uid!)
      if (phaseOf(p) === 'Succeeded') succeeded++
      else {
        failed++
        newFailures++
      }
    }
    const active = pods.filter((p) => !terminal(p) && !p.metadata.deletionTimestamp)
    const terminating = pods.filter((p) => !terminal(p) && p.metadata.deletionTimestamp).length
    // Under OnFailure the kubelet restarts failed containers in place: their restarts count as failures.
    const restarts = rec(template.spec).restartPolicy === 'OnFailure' ? pods.reduce((a, p) => a + ((rec(p.status).containerStatuses as Array<{ restartCount?: number }> | undefined) ?? []).reduce((b, c) => b + count(c.restartCount, 0), 0), 0) : 0
    const parallelism = count(spec.parallelism, 1)
    const completions = spec.completions === undefined || spec.completions === null ? undefined : count(spec.completions, 1)
    const backoffLimit = count(spec.backoffLimit, 6)
    const suspended = spec.suspend === true
    const nowMs = Date.now()
    const now = rfc3339(nowMs)
    let conditions = conditionsOf(job)
    const next: Rec = { ...status, startTime: status.startTime ?? (suspended ? undefined : now), terminating, ready: active.filter(podReady).length, uncountedTerminatedPods: {} }
    const times: Array<'lastProbeTime' | 'lastTransitionTime'> = ['lastProbeTime', 'lastTransitionTime']
    if (failed + restarts > backoffLimit) {
      for (const p of active) this.store.delete(PODS, ns, p.metadata.name!)
      failed += active.length
      for (const type of ['FailureTarget', 'Failed']) conditions = setCondition(conditions, { type, status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }, now, times)
      Object.assign(next, { active: undefined, terminating: terminating + active.length })
      this.event(JOBS, job, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', 'job-controller')
    } else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
      for (const p of active) this.store.delete(PODS, ns, p.metadata.name!)
      for (const type of ['SuccessCriteriaMet', 'Complete']) conditions = setCondition(conditions, { type, status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now, times)
      Object.assign(next, { active: undefined, completionTime: now })
      this.event(JOBS, job, 'Normal', 'Completed', 'Job completed', 'job-controller')
    } else {
      next.active = active.length || undefined
      if (newFailures > 0) this.backOffUntil.set(uid, nowMs + Math.min(JOB_BACKOFF_MAX_S, JOB_BACKOFF_S * 2 ** Math.max(0, failed - 1)) * 1000 * this.factor)
      const wanted = suspended ? 0 : completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism
      const missing = Math.min(BURST, wanted - active.length - (this.inFlight.get(uid) ?? 0))
      const wait = (this.backOffUntil.get(uid) ?? 0) - nowMs
      if (missing > 0 && wait > 0) this.later(wait, () => this.queue(JOBS, ns, name))
      else for (let i = 0; i < missing; i++) void this.createPod(JOBS, job, template, 'job-controller').catch((err: unknown) => this.failed(err))
      if (suspended) conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now, times)
    }
    next.succeeded = succeeded || undefined
    next.failed = failed || undefined
    if (conditions.length) next.conditions = conditions
    this.writeStatus(JOBS, job, next)
    const ttl = spec.ttlSecondsAfterFinished
    if (next.completionTime || isTrue({ ...job, status: next }, 'Failed')) {
      if (typeof ttl === 'number' && ttl >= 0) this.later(ttl * 1000 * this.factor, () => this.deleteIfSame(JOBS, ns, name, uid))
    }
  }

  private deleteIfSame(d: ResourceDef, ns: string | undefined, name: string, uid: string): void {
    if (this.store.tryGet(d, ns, name)?.metadata.uid === uid) this.store.delete(d, ns, name, { propagation: 'Background' })
  }

  // ---------------------------------------------------------------- ReplicaSet

  private async syncReplicaSet(ns: string | undefined, name: string): Promise<void> {
    const rs = this.store.tryGet(REPLICASETS, ns, name)
    if (!rs || rs.metadata.deletionTimestamp) return
    const spec = rec(rs.spec)
    const replicas = count(spec.replicas, 1)
    const alive = this.owned(rs, 'Pod').filter((p) => !terminal(p) && !p.metadata.deletionTimestamp)
    const inFlight = this.inFlight.get(rs.metadata.uid!) ?? 0
    const diff = replicas - alive.length - inFlight
    if (diff > 0) for (let i = 0; i < Math.min(diff, BURST); i++) void this.createPod(REPLICASETS, rs, rec(spec.template), 'replicaset-controller').catch((err: unknown) => this.failed(err))
    if (diff < 0 && inFlight === 0) {
      // Not-ready pods go first, then the newest.
      const order = [...alive].sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
      for (const p of order.slice(0, -diff)) {
        this.store.delete(PODS, ns, p.metadata.name!)
        this.event(REPLICASETS, rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'replicaset-controller')
      }
    }
    const ready = alive.filter(podReady).length
    this.writeStatus(REPLICASETS, rs, { replicas: alive.length, fullyLabeledReplicas: alive.length || undefined, readyReplicas: ready || undefined, availableReplicas: ready || undefined, observedGeneration: rs.metadata.generation })
  }

  // ---------------------------------------------------------------- Deployment

  private async syncDeployment(ns: string | undefined, name: string): Promise<void> {
    const d = this.store.tryGet(DEPLOYMENTS, ns, name)
    if (!d || d.metadata.deletionTimestamp) return
    const spec = rec(d.spec)
    const replicas = count(spec.replicas, 1)
    const template = rec(spec.template)
    const hash = templateHash(template)
    const sets = this.owned(d, 'ReplicaSet')
    const now = rfc3339(Date.now())
    let current = sets.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash)
    let created = false
    const REVISION = 'deployment.kubernetes.io/revision'
    // A new ReplicaSet is the next revision; an existing one keeps its own.
    const revision = current?.metadata.annotations?.[REVISION] ?? String(Math.max(0, ...sets.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0)).filter(Number.isFinite)) + 1)
    const annotations = (n: number): Record<string, string> => ({ 'deployment.kubernetes.io/desired-replicas': String(n), 'deployment.kubernetes.io/max-replicas': String(n + scaledValue(rec(rec(spec.strategy).rollingUpdate).maxSurge ?? '25%', n, true)), [REVISION]: revision })
    if (!current) {
      const tmeta = rec(template.metadata)
      const labels = { ...(rec(tmeta.labels) as Record<string, string>), 'pod-template-hash': hash }
      current = this.store.create(REPLICASETS, ns, {
        metadata: { name: `${name}-${hash}`, namespace: ns, labels, annotations: annotations(replicas), ownerReferences: [ownerRef(DEPLOYMENTS, d)] },
        spec: { replicas, selector: { ...rec(spec.selector), matchLabels: { ...(rec(rec(spec.selector).matchLabels) as Record<string, string>), 'pod-template-hash': hash } }, template: { ...template, metadata: { ...tmeta, labels } } },
      })
      created = true
      this.event(DEPLOYMENTS, d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${current.metadata.name} from 0 to ${replicas}`, 'deployment-controller')
    } else if (count(rec(current.spec).replicas, 1) !== replicas) {
      const from = count(rec(current.spec).replicas, 1)
      current = this.store.update(REPLICASETS, ns, { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...annotations(replicas) } }, spec: { ...rec(current.spec), replicas } }, { checkRv: false })
      this.event(DEPLOYMENTS, d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${current.metadata.name} from ${from} to ${replicas}`, 'deployment-controller')
    }
    // A new template: the old ReplicaSets go down to zero once the new one is up (no surge steps here).
    for (const old of sets.filter((rs) => rs.metadata.uid !== current.metadata.uid && count(rec(rs.spec).replicas, 1) > 0)) {
      const from = count(rec(old.spec).replicas, 1)
      this.store.update(REPLICASETS, ns, { ...old, spec: { ...rec(old.spec), replicas: 0 } }, { checkRv: false })
      this.event(DEPLOYMENTS, d, 'Normal', 'ScalingReplicaSet', `Scaled down replica set ${old.metadata.name} from ${from} to 0`, 'deployment-controller')
    }
    const all = [...sets.filter((rs) => rs.metadata.uid !== current.metadata.uid), current]
    const sum = (field: string): number => all.reduce((a, rs) => a + count(rec(rs.status)[field], 0), 0)
    const total = sum('replicas')
    const available = sum('availableReplicas')
    const updated = count(rec(current.status).replicas, 0)
    const maxUnavailable = rec(spec.strategy).type === 'Recreate' ? 0 : scaledValue(rec(rec(spec.strategy).rollingUpdate).maxUnavailable ?? '25%', replicas, false)
    const times: Array<'lastUpdateTime' | 'lastTransitionTime'> = ['lastUpdateTime', 'lastTransitionTime']
    let conditions = conditionsOf(d)
    conditions = setCondition(conditions, available >= replicas - maxUnavailable ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now, times)
    const rsName = current.metadata.name
    const done = updated === replicas && available === replicas && total === replicas
    const progressing = done ? { reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` } : created ? { reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` } : { reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }
    conditions = setCondition(conditions, { type: 'Progressing', status: 'True', ...progressing }, now, times)
    // Available first, then Progressing, as the controller writes them.
    conditions = [...conditions].sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0))
    const meta = d.metadata.annotations?.[REVISION] === revision ? undefined : { ...d.metadata, annotations: { ...d.metadata.annotations, [REVISION]: revision } }
    this.writeStatus(DEPLOYMENTS, d, {
      observedGeneration: d.metadata.generation, replicas: total || undefined, updatedReplicas: updated || undefined, readyReplicas: sum('readyReplicas') || undefined,
      availableReplicas: available || undefined, unavailableReplicas: Math.max(0, replicas - available) || undefined, conditions,
    }, meta)
  }

  // ---------------------------------------------------------------- CronJob

  private async syncCronJob(ns: string | undefined, name: string): Promise<void> {
    const cj = this.store.tryGet(CRONJOBS, ns, name)
    if (!cj || cj.metadata.deletionTimestamp) return
    const key = `${ns}/${name}`
    const spec = rec(cj.spec)
    const status = rec(cj.status)
    const jobs = this.owned(cj, 'Job')
    const finished = (j: Obj): 'Complete' | 'Failed' | undefined => (isTrue(j, 'Complete') ? 'Complete' : isTrue(j, 'Failed') ? 'Failed' : undefined)
    for (const j of jobs) {
      const f = finished(j)
      if (f && !this.sawFinished.has(j.metadata.uid!)) {
        this.sawFinished.add(j.metadata.uid!)
        this.event(CRONJOBS, cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${f}`, 'cronjob-controller')
      }
    }
    // History: the newest successful and failed Jobs are kept, up to their limits.
    const byStart = (a: Obj, b: Obj): number => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name!.localeCompare(b.metadata.name!)
    for (const [state, limit] of [['Complete', count(spec.successfulJobsHistoryLimit, 3)], ['Failed', count(spec.failedJobsHistoryLimit, 1)]] as const) {
      const done = jobs.filter((j) => finished(j) === state).sort(byStart)
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        this.store.delete(JOBS, ns, j.metadata.name!, { propagation: 'Background' })
        this.event(CRONJOBS, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`, 'cronjob-controller')
      }
    }
    let active = jobs.filter((j) => !finished(j) && !j.metadata.deletionTimestamp)
    const next: Rec = { ...status }
    const successTimes = jobs.filter((j) => finished(j) === 'Complete').map((j) => String(rec(j.status).completionTime ?? '')).filter(Boolean).sort()
    if (successTimes.length) next.lastSuccessfulTime = successTimes[successTimes.length - 1]
    clearTimeout(this.cronTimers.get(key))
    this.cronTimers.delete(key)
    const schedule = parseSchedule(String(spec.schedule ?? ''))
    if (schedule instanceof Error) {
      if (!this.sawFinished.has(`schedule/${cj.metadata.uid}`)) {
        this.sawFinished.add(`schedule/${cj.metadata.uid}`)
        this.event(CRONJOBS, cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${String(spec.schedule)}" : ${schedule.message}`, 'cronjob-controller')
      }
    } else if (spec.suspend !== true) {
      const simNow = this.simNow()
      const since = typeof status.lastScheduleTime === 'string' ? Date.parse(status.lastScheduleTime) : this.toSim(Date.parse(String(cj.metadata.creationTimestamp)))
      // The latest schedule time that has come and not been run (missed ones before it are skipped).
      let due: number | undefined
      for (let t = nextAfter(schedule, since), i = 0; t !== undefined && t <= simNow && i < 1000; t = nextAfter(schedule, t), i++) due = t
      const policy = spec.concurrencyPolicy
      if (due !== undefined && !(policy === 'Forbid' && active.length > 0)) {
        if (policy === 'Replace') {
          for (const j of active) {
            this.store.delete(JOBS, ns, j.metadata.name!, { propagation: 'Background' })
            this.event(CRONJOBS, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`, 'cronjob-controller')
          }
          active = []
        }
        const job = this.startJob(cj, due)
        if (job) active.push(job)
        next.lastScheduleTime = rfc3339(due)
      }
      const upcoming = nextAfter(schedule, Math.max(simNow, due ?? 0))
      if (upcoming !== undefined) {
        const t = setTimeout(() => {
          this.cronTimers.delete(key)
          this.queue(CRONJOBS, ns, name)
        }, this.realDelay(upcoming) + 1)
        this.cronTimers.set(key, t)
      }
    }
    next.active = active.length ? active.map((j) => ({ kind: 'Job', namespace: ns, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion })) : undefined
    this.writeStatus(CRONJOBS, cj, next)
  }

  private toSim(realMs: number): number {
    return this.factor > 0 ? this.startedAt + (realMs - this.startedAt) / this.factor : realMs
  }

  /** The Job of a schedule time: `<cronjob>-<minutes since the epoch>`, owned by the CronJob. */
  private startJob(cj: Obj, at: number): Obj | undefined {
    const template = rec(rec(cj.spec).jobTemplate)
    const tmeta = rec(template.metadata)
    const name = `${cj.metadata.name}-${Math.floor(at / 60_000)}`
    try {
      const job = this.store.create(JOBS, cj.metadata.namespace, {
        metadata: {
          name, namespace: cj.metadata.namespace,
          ...(Object.keys(rec(tmeta.labels)).length ? { labels: { ...(rec(tmeta.labels) as Record<string, string>) } } : {}),
          annotations: { ...(rec(tmeta.annotations) as Record<string, string>), 'batch.kubernetes.io/cronjob-scheduled-timestamp': rfc3339(at) },
          ownerReferences: [ownerRef(CRONJOBS, cj)],
        },
        spec: structuredClone(rec(template.spec)),
      })
      this.event(CRONJOBS, cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`, 'cronjob-controller')
      return job
    } catch (err) {
      if (!(err instanceof StatusError)) throw err
      if (err.code !== 409) this.event(CRONJOBS, cj, 'Warning', 'FailedCreate', `Error creating job: ${err.message}`, 'cronjob-controller')
      return undefined
    }
  }
}
