/**
 * Namespace termination as the API server and the namespace controller run it. A namespace is
 * created Active with the `kubernetes` finalizer in `spec.finalizers`. The first DELETE marks it
 * (`deletionTimestamp`, `status.phase: Terminating`) and answers with it; while it is Terminating,
 * creating anything in it is 403 (the NamespaceLifecycle admission plugin). The controller then
 * deletes its contents as a client would (pods gracefully, objects with finalizers stay until those
 * are removed), reports what is left in the namespace's conditions, and once nothing is left removes
 * `kubernetes` from `spec.finalizers` (the `finalize` subresource) and deletes the namespace again,
 * which now goes. Another finalizer in `spec.finalizers` keeps it Terminating until a PUT to
 * `namespaces/<name>/finalize` takes it out; a second DELETE meanwhile is 409. What the registry
 * does on create, update and delete is in lifecycle.ts (the store calls it); the admission check and
 * the controller are here.
 */
import type { ResourceDef } from './resources.js'
import { RESOURCES, qualified } from './resources.js'
import { StatusError } from './status.js'
import type { Obj, Store, WatchEvent } from './store.js'
import { KUBERNETES_FINALIZER, isNamespaces, specFinalizers } from './lifecycle.js'
import { rfc3339 } from './time.js'

/** Namespaces the NamespaceLifecycle plugin never lets go. */
export const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public'])

const NS_DEF = RESOURCES.find((r) => r.group === '' && r.resource === 'namespaces')!

/**
 * The NamespaceLifecycle admission plugin on a create: 403 in a namespace that is being terminated,
 * naming the object (its generateName when it has no name yet) and the NamespaceTerminating cause.
 */
export function checkNamespaceLifecycle(store: Store, def: ResourceDef, namespace: string | undefined, obj: Obj): void {
  if (!def.namespaced || !namespace) return
  const ns = store.tryGet(NS_DEF, undefined, namespace)
  if ((ns?.status as { phase?: string } | undefined)?.phase !== 'Terminating') return
  const name = obj.metadata?.name || obj.metadata?.generateName || 'Unknown'
  throw new StatusError(403, `${qualified(def)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, 'Forbidden', {
    name, ...(def.group ? { group: def.group } : {}), kind: def.resource,
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
  })
}

const CONDITION_TYPES = ['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure', 'NamespaceContentRemaining', 'NamespaceFinalizersRemaining'] as const
const OK: Record<(typeof CONDITION_TYPES)[number], [string, string]> = {
  NamespaceDeletionDiscoveryFailure: ['ResourcesDiscovered', 'All resources successfully discovered'],
  NamespaceDeletionGroupVersionParsingFailure: ['ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  NamespaceDeletionContentFailure: ['ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
  NamespaceContentRemaining: ['ContentRemoved', 'All content successfully removed'],
  NamespaceFinalizersRemaining: ['ContentRemoved', 'All content successfully removed'],
}

type Condition = { type: string; status: string; lastTransitionTime: string; reason: string; message: string }

/**
 * The namespace controller's five deletion conditions, in its order and words: False ("all good")
 * unless content remains (`pods. has 1 resource instances`) or finalizers on it do
 * (`example.com/x in 1 resource instances`). A condition keeps its lastTransitionTime while its status stays.
 */
export function deletionConditions(existing: unknown, remaining: Map<string, number>, finalizers: Map<string, number>, now: Date): Condition[] {
  const old = (Array.isArray(existing) ? existing : []) as Condition[]
  const list = (m: Map<string, number>, f: (k: string, n: number) => string): string => [...m].filter(([, n]) => n > 0).map(([k, n]) => f(k, n)).sort().join(', ')
  const fresh: Partial<Record<string, [string, string]>> = {}
  if (remaining.size > 0) fresh.NamespaceContentRemaining = ['SomeResourcesRemain', `Some resources are remaining: ${list(remaining, (k, n) => `${k} has ${n} resource instances`)}`]
  if (finalizers.size > 0) fresh.NamespaceFinalizersRemaining = ['SomeFinalizerRemain', `Some finalizers are remaining: ${list(finalizers, (k, n) => `${k} in ${n} resource instances`)}`]
  const out = old.filter((c) => !(CONDITION_TYPES as readonly string[]).includes(c.type)).map((c) => ({ ...c }))
  const merged: Condition[] = []
  for (const type of CONDITION_TYPES) {
    const [reason, message] = fresh[type] ?? OK[type]
    const status = fresh[type] ? 'True' : 'False'
    const before = old.find((c) => c.type === type)
    merged.push({ type, status, lastTransitionTime: before && before.status === status ? before.lastTransitionTime : rfc3339(now), reason, message })
  }
  // Conditions the controller did not write first (none here), then its own in its order.
  return [...out, ...merged]
}

/**
 * The namespace controller: for every namespace with a deletionTimestamp it deletes what is in it,
 * writes what remains into the conditions and, once it is empty, finalizes and deletes it. It works
 * from the store's changes (a deletion in a terminating namespace, the namespace itself changing),
 * one pass per namespace per turn of the event loop.
 */
export class NamespaceController {
  private readonly terminating = new Set<string>()
  private readonly queued = new Set<string>()
  /** Errors in a pass: bugs, kept for `sim.bugs()` rather than thrown into the store's emitter. */
  readonly bugs: unknown[] = []
  private stopped = false
  private readonly onChange = (e: WatchEvent): void => {
    if (isNamespaces(e.def)) {
      const name = String(e.object.metadata.name)
      if (e.type === 'DELETED') this.terminating.delete(name)
      else if (e.object.metadata.deletionTimestamp) {
        this.terminating.add(name)
        this.queue(name)
      }
      return
    }
    const ns = e.object.metadata.namespace
    if (ns && this.terminating.has(ns)) this.queue(ns)
  }

  constructor(private readonly store: Store, private readonly now: () => Date = () => new Date()) {
    store.events.on('change', this.onChange)
    for (const ns of store.list(NS_DEF, undefined, { shared: true })) {
      if (ns.metadata.deletionTimestamp) {
        this.terminating.add(String(ns.metadata.name))
        this.queue(String(ns.metadata.name))
      }
    }
  }

  stop(): void {
    this.stopped = true
    this.store.events.off('change', this.onChange)
  }

  private queue(name: string): void {
    if (this.queued.has(name)) return
    this.queued.add(name)
    setImmediate(() => {
      this.queued.delete(name)
      if (this.stopped) return
      try {
        this.sync(name)
      } catch (err) {
        // The namespace went (or changed) in between: the next change queues another pass.
        if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) this.bugs.push(err)
      }
    })
  }

  /** One pass of the controller over a terminating namespace. */
  private sync(name: string): void {
    let ns = this.store.tryGet(NS_DEF, undefined, name)
    if (!ns?.metadata.deletionTimestamp) return
    if (specFinalizers(ns).includes(KUBERNETES_FINALIZER)) {
      const remaining = new Map<string, number>()
      const finalizers = new Map<string, number>()
      for (const def of RESOURCES) {
        // events.k8s.io serves the core events again: they are deleted (and counted) once.
        if (!def.namespaced || (def.group === 'events.k8s.io' && def.resource === 'events')) continue
        for (const o of this.store.list(def, name)) {
          if (!o.metadata.deletionTimestamp) {
            try {
              this.store.delete(def, name, o.metadata.name!)
            } catch (err) {
              if (!(err instanceof StatusError && err.code === 404)) throw err
            }
          }
        }
        const left = this.store.list(def, name, { shared: true })
        if (left.length > 0) remaining.set(`${def.resource}.${def.group}`, left.length)
        for (const o of left) for (const f of (Array.isArray(o.metadata.finalizers) ? o.metadata.finalizers : []) as string[]) finalizers.set(f, (finalizers.get(f) ?? 0) + 1)
      }
      ns = this.store.get(NS_DEF, undefined, name)
      const conditions = deletionConditions((ns.status as { conditions?: unknown } | undefined)?.conditions, remaining, finalizers, this.now())
      const status = (ns.status ?? {}) as Record<string, unknown>
      if (JSON.stringify(status.conditions) !== JSON.stringify(conditions) || status.phase !== 'Terminating') {
        ns = this.store.update(NS_DEF, undefined, { ...ns, status: { ...status, phase: 'Terminating', conditions } }, { checkRv: false })
      }
      if (remaining.size > 0) return
      ns = this.store.update(NS_DEF, undefined, { ...ns, spec: { ...(ns.spec as object), finalizers: specFinalizers(ns).filter((f) => f !== KUBERNETES_FINALIZER) } }, { checkRv: false })
    }
    // Other finalizers in spec.finalizers keep it until someone finalizes them away.
    if (specFinalizers(ns).length === 0 && ns.metadata.deletionGracePeriodSeconds !== 0) this.store.delete(NS_DEF, undefined, name)
  }
}
