/**
 * Object and container lifecycle as the API server and the kubelet run it: graceful deletion
 * (deletionTimestamp, deletionGracePeriodSeconds, finalizers), restart policies with the kubelet's
 * back-off, pod IPs from the pod CIDR, and the namespace registry's side of namespace termination
 * (the namespace controller is in namespaces.ts). Pure helpers; the store and the controllers call them.
 */
import type { ResourceDef } from './resources.js'
import type { Meta, Obj } from './object.js'
import { StatusError } from './status.js'
import { rfc3339 } from './time.js'

/** A pod's grace period when neither the request nor `terminationGracePeriodSeconds` names one. */
export const DEFAULT_POD_GRACE_SECONDS = 30

const finalizersOf = (o: Obj): string[] => (Array.isArray(o.metadata.finalizers) ? (o.metadata.finalizers as string[]) : [])

/**
 * The grace period a delete gives an object, as the pod strategy's CheckGracefulDelete has it: pods
 * the request's `gracePeriodSeconds`, else `spec.terminationGracePeriodSeconds`, else 30 s, but 0 for
 * a pod that was never scheduled or has already finished (nothing to stop); any other kind 0.
 */
export function gracePeriodFor(def: ResourceDef, obj: Obj, requested: number | undefined): number {
  if (def.group !== '' || def.resource !== 'pods') return 0
  const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number }
  const phase = (obj.status as { phase?: string } | undefined)?.phase
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS
  return grace < 0 ? 1 : Math.floor(grace)
}

/**
 * What a delete does to an object that has finalizers or a grace period: undefined when it goes at
 * once; otherwise the object marked with `deletionTimestamp` (now + grace) and
 * `deletionGracePeriodSeconds`, and whether that is a change (a later delete may only shorten the
 * grace period). The object stays readable until its finalizers are removed and its grace is over.
 */
export function markForDeletion(def: ResourceDef, obj: Obj, requested: number | undefined, now: Date): { obj: Obj; changed: boolean } | undefined {
  const finalizers = finalizersOf(obj)
  const grace = gracePeriodFor(def, obj, requested)
  const meta = obj.metadata
  const marked = (g: number): Obj => ({ ...obj, metadata: { ...meta, deletionTimestamp: rfc3339(new Date(now.getTime() + g * 1000)), deletionGracePeriodSeconds: g } })
  if (meta.deletionTimestamp) {
    const current = typeof meta.deletionGracePeriodSeconds === 'number' ? meta.deletionGracePeriodSeconds : 0
    if (grace >= current) return { obj, changed: false }
    if (grace === 0 && finalizers.length === 0) return undefined
    return { obj: marked(grace), changed: true }
  }
  if (grace === 0 && finalizers.length === 0) return undefined
  return { obj: marked(grace), changed: true }
}

/** An object being deleted whose finalizers are all gone and whose grace period is over is removed. */
export function deletionComplete(obj: Obj): boolean {
  const grace = obj.metadata.deletionGracePeriodSeconds
  return Boolean(obj.metadata.deletionTimestamp) && finalizersOf(obj).length === 0 && (typeof grace !== 'number' || grace === 0)
}

/** Only a delete sets `deletionTimestamp` and `deletionGracePeriodSeconds`; an update keeps (or lacks) them. */
export function keepDeletionMarks(current: Meta, next: Meta): void {
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    if (current[k] === undefined) delete next[k]
    else Object.assign(next, { [k]: current[k] })
  }
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never'

/** The pod's restartPolicy; the API server defaults it to Always. */
export function restartPolicyOf(pod: Obj): RestartPolicy {
  const p = (pod.spec as { restartPolicy?: unknown } | undefined)?.restartPolicy
  return p === 'OnFailure' || p === 'Never' ? p : 'Always'
}

/** Whether the kubelet starts a container again after it exited with `exitCode`. */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)
}

/** Whether an OOM-killed container (exit code 137) runs again: like any failed exit, per restartPolicy. */
export function restartAfterOom(pod: Obj): boolean {
  return shouldRestart(restartPolicyOf(pod), 137)
}

/** The kubelet's first crash back-off (`backOffPeriod`) and its cap (`MaxContainerBackOff`), in seconds. */
export const BACKOFF_INITIAL_SECONDS = 10
export const BACKOFF_MAX_SECONDS = 300

/** The kubelet's crash back-off before restart number `restart` (1, 2, …) of a container that keeps failing: 10 s, doubling, at most 5 min. */
export function backOffSeconds(restart: number): number {
  return Math.min(BACKOFF_MAX_SECONDS, BACKOFF_INITIAL_SECONDS * 2 ** Math.max(0, restart - 1))
}

/**
 * The kubelet's per-container crash back-off (client-go's flowcontrol.Backoff as the kubelet uses
 * it): each failure doubles the wait before the next start, from 10 s up to 5 min, but a container
 * that ran for more than twice the cap (10 minutes) since its last start counts as healthy, and its
 * next failure starts again at 10 s. `nowMs` is the simulated clock (the real one divided by
 * `clockFactor`), so a test can let "10 minutes" pass in well under a second.
 */
export class CrashBackOff {
  private readonly entries = new Map<string, { seconds: number; startedAt: number }>()

  constructor(private readonly nowMs: () => number) {}

  /** A new instance of the container starts now. */
  started(key: string): void {
    const e = this.entries.get(key)
    if (e) e.startedAt = this.nowMs()
    else this.entries.set(key, { seconds: 0, startedAt: this.nowMs() })
  }

  /** The container failed and is to run again: the back-off (seconds) before it does. */
  failed(key: string): number {
    const now = this.nowMs()
    const e = this.entries.get(key)
    const healthy = !e || e.seconds === 0 || now - e.startedAt > 2 * BACKOFF_MAX_SECONDS * 1000
    const seconds = healthy ? BACKOFF_INITIAL_SECONDS : Math.min(BACKOFF_MAX_SECONDS, e.seconds * 2)
    this.entries.set(key, { seconds, startedAt: e?.startedAt ?? now })
    return seconds
  }

  /** The pod is gone: its containers' back-offs go with it. */
  forget(uid: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(`${uid}/`)) this.entries.delete(k)
  }
}

/** A duration as Go prints it (10s, 1m20s, 5m0s): the kubelet's back-off messages use it. */
export function goDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`
}

/** The waiting state of a container in back-off, worded as the kubelet words it. */
export function crashLoopWaiting(pod: Obj, container: string, backOff: number): { waiting: { reason: string; message: string } } {
  return { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(backOff)} restarting failed container=${container} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } }
}

/** The pod's Ready and ContainersReady conditions for the containers that are not ready (none: True). */
export function readiness(notReady: string[], at: string): Array<Record<string, unknown>> {
  return ['Ready', 'ContainersReady'].map((type) => notReady.length === 0
    ? { type, status: 'True', lastProbeTime: null, lastTransitionTime: at }
    : { type, status: 'False', lastProbeTime: null, lastTransitionTime: at, reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` })
}

/** Replaces (or adds) conditions by type, keeping the others in their order. */
export function withConditions(existing: unknown, updates: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const out = (Array.isArray(existing) ? existing : []).map((c) => ({ ...(c as Record<string, unknown>) }))
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type)
    if (i >= 0) out[i] = u
    else out.push(u)
  }
  return out
}

/** Pod IPs from the pod CIDR 10.244.0.0/16, one per pod, never the same twice in one simulator. */
export class PodIPs {
  private next = 10

  allocate(): string {
    const n = this.next++
    return `10.244.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`
  }
}

/** DeleteOptions' `gracePeriodSeconds`, from the query (it wins, as in the API server) or the body. */
export function gracePeriodOf(url: URL, body: unknown): { gracePeriodSeconds?: number } {
  const q = url.searchParams.get('gracePeriodSeconds')
  if (q !== null && /^-?\d+$/.test(q)) return { gracePeriodSeconds: Number(q) }
  const b = body && typeof body === 'object' ? (body as { gracePeriodSeconds?: unknown }).gracePeriodSeconds : undefined
  return typeof b === 'number' && Number.isInteger(b) ? { gracePeriodSeconds: b } : {}
}

// Namespaces (the namespace registry and strategy; the controller is in namespaces.ts).

/** The finalizer the API server puts in every new namespace's `spec.finalizers`. */
export const KUBERNETES_FINALIZER = 'kubernetes'


export const isNamespaces = (def: ResourceDef): boolean => def.group === '' && def.resource === 'namespaces'

export function specFinalizers(ns: Obj): string[] {
  const f = (ns.spec as { finalizers?: unknown } | undefined)?.finalizers
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : []
}

/** What the namespace strategy does on create: phase Active, and the `kubernetes` finalizer added to what the request asked for. */
export function prepareNamespaceForCreate(ns: Obj): void {
  const spec = ns.spec && typeof ns.spec === 'object' && !Array.isArray(ns.spec) ? (ns.spec as Record<string, unknown>) : {}
  const finalizers = specFinalizers(ns)
  ns.spec = { ...spec, finalizers: finalizers.includes(KUBERNETES_FINALIZER) ? finalizers : [...finalizers, KUBERNETES_FINALIZER] }
  ns.status = { phase: 'Active' }
}

/**
 * What an update may change of a namespace: `status` only through `namespaces/status`,
 * `spec.finalizers` only through `namespaces/finalize` (which changes nothing else of the spec or the
 * status), everything else through a plain update.
 */
export function namespaceUpdate(old: Obj, next: Obj, subresource: string | undefined): Obj {
  if (subresource === 'status') return { ...old, metadata: { ...old.metadata, resourceVersion: next.metadata.resourceVersion }, status: next.status }
  if (subresource === 'finalize') return { ...old, metadata: { ...old.metadata, resourceVersion: next.metadata.resourceVersion }, spec: { ...(old.spec as object), finalizers: specFinalizers(next) } }
  return { ...next, spec: { ...(next.spec && typeof next.spec === 'object' ? (next.spec as object) : {}), finalizers: specFinalizers(old) }, status: old.status }
}

/**
 * The namespace registry's DELETE: the first marks the namespace Terminating (`mark`); a later one
 * while `spec.finalizers` is not empty is 409; then the namespace goes (`remove`), or waits for its
 * `metadata.finalizers` (`wait`, with deletionGracePeriodSeconds 0, as the generic store marks it).
 */
export function namespaceDeleteStep(ns: Obj, now: Date): { step: 'mark' | 'wait'; obj: Obj; changed: boolean } | { step: 'remove' } {
  const meta = ns.metadata
  if (!meta.deletionTimestamp) return { step: 'mark', obj: { ...ns, metadata: { ...meta, deletionTimestamp: rfc3339(now) }, status: { ...((ns.status as object | undefined) ?? {}), phase: 'Terminating' } }, changed: true }
  if (specFinalizers(ns).length > 0) {
    throw new StatusError(409, `Operation cannot be fulfilled on namespaces "${meta.name}": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.`, 'Conflict', { name: meta.name, kind: 'namespaces' })
  }
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : []
  if (finalizers.length > 0) return { step: 'wait', obj: { ...ns, metadata: { ...meta, deletionGracePeriodSeconds: 0 } }, changed: meta.deletionGracePeriodSeconds !== 0 }
  return { step: 'remove' }
}

/** A namespace is gone once it was deleted a last time (grace 0) with no finalizer left in its metadata or its spec. */
export function namespaceDeletionComplete(ns: Obj): boolean {
  const meta = ns.metadata
  return Boolean(meta.deletionTimestamp) && meta.deletionGracePeriodSeconds === 0 && specFinalizers(ns).length === 0 && !(Array.isArray(meta.finalizers) && meta.finalizers.length > 0)
}
