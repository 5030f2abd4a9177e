/**
 * The resource-quota controller's part of ResourceQuota: `status.hard` mirrors `spec.hard`, and
 * `status.used` follows what is created and deleted in the namespace, incrementally (what the
 * quota admission and the controller keep up to date on a real cluster, so `kubectl describe quota`
 * shows usage grow as job pods start). Pods stop counting once they have terminated. A scenario may
 * seed `status.used` to stand for objects it does not list; changes are added to that.
 */
import type { Obj, Store, WatchEvent } from './store.js'
import { RESOURCES, type ResourceDef } from './resources.js'
import { quotaUsageOf } from './admission.js'
import { fmt, q } from './quantity.js'

const QUOTAS = RESOURCES.find((r) => r.resource === 'resourcequotas' && r.group === '')!

const terminal = (o: Obj): boolean => ['Succeeded', 'Failed'].includes(String((o.status as { phase?: string } | undefined)?.phase))

export class QuotaController {
  /** What each counted object (by uid) added to its namespace's quotas. */
  private readonly counted = new Map<string, { namespace: string; usage: Record<string, number> }>()
  /** The sum of `counted` per namespace and key, kept with it: a new quota's usage is read, not recounted. */
  private readonly totals = new Map<string, Record<string, number>>()
  private readonly onChange = (e: WatchEvent): void => this.change(e)

  constructor(private readonly store: Store) {
    for (const def of RESOURCES.filter((r) => r.namespaced && r !== QUOTAS)) for (const o of store.list(def, undefined, { shared: true })) this.count(def, o)
    for (const quota of store.list(QUOTAS)) this.reconcile(quota, true)
    store.events.on('change', this.onChange)
  }

  stop(): void {
    this.store.events.off('change', this.onChange)
  }

  private count(def: ResourceDef, o: Obj): Record<string, number> | undefined {
    const uid = o.metadata.uid
    if (!uid || !o.metadata.namespace || this.counted.has(uid) || (def.resource === 'pods' && terminal(o))) return undefined
    const usage = Object.fromEntries(Object.entries(quotaUsageOf(def, o)).map(([k, v]) => [k, v.value]))
    this.counted.set(uid, { namespace: o.metadata.namespace, usage })
    this.total(o.metadata.namespace, usage, 1)
    return usage
  }

  private total(namespace: string, usage: Record<string, number>, sign: 1 | -1): void {
    let t = this.totals.get(namespace)
    if (!t) this.totals.set(namespace, (t = {}))
    for (const [k, v] of Object.entries(usage)) t[k] = (t[k] ?? 0) + sign * v
  }

  private change(e: WatchEvent): void {
    if (e.def === QUOTAS) {
      if (e.type !== 'DELETED') this.reconcile(e.object, false)
      return
    }
    if (!e.def.namespaced) return
    const uid = e.object.metadata.uid!
    if (e.type === 'ADDED') {
      const usage = this.count(e.def, e.object)
      if (usage) this.add(e.object.metadata.namespace!, usage, 1)
    } else if (e.type === 'DELETED' || (e.def.resource === 'pods' && terminal(e.object))) {
      const c = this.counted.get(uid)
      if (!c) return
      this.counted.delete(uid)
      this.total(c.namespace, c.usage, -1)
      this.add(c.namespace, c.usage, -1)
    }
  }

  private add(namespace: string, usage: Record<string, number>, sign: 1 | -1): void {
    for (const quota of this.store.list(QUOTAS, namespace)) {
      const hard = ((quota.spec as { hard?: Record<string, string> } | undefined)?.hard ?? {}) as Record<string, string>
      const used = { ...(((quota.status as { used?: Record<string, string> } | undefined)?.used ?? {}) as Record<string, string>) }
      let changed = false
      for (const [key, limit] of Object.entries(hard)) {
        const d = usage[key]
        if (!d) continue
        used[key] = fmt(Math.max(0, q(used[key] ?? '0') + sign * d), limit, key)
        changed = true
      }
      if (changed) this.store.update(QUOTAS, namespace, { ...quota, status: { hard: { ...hard }, used } }, { checkRv: false })
    }
  }

  /** status.hard from spec.hard; a key without usage yet gets it from the objects counted in the namespace. */
  private reconcile(quota: Obj, seeding: boolean): void {
    const hard = ((quota.spec as { hard?: Record<string, string> } | undefined)?.hard ?? {}) as Record<string, string>
    const status = (quota.status ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> }
    const used: Record<string, string> = {}
    for (const [key, limit] of Object.entries(hard)) {
      if (status.used?.[key] !== undefined) used[key] = status.used[key]
      else used[key] = fmt(this.totals.get(quota.metadata.namespace ?? '')?.[key] ?? 0, limit, key)
    }
    const next = { hard: { ...hard }, used }
    if (JSON.stringify(next) === JSON.stringify({ hard: status.hard, used: status.used })) return
    if (!seeding && JSON.stringify(status.hard) === JSON.stringify(hard) && Object.keys(hard).every((k) => status.used?.[k] !== undefined)) return
    this.store.update(QUOTAS, quota.metadata.namespace, { ...quota, status: next }, { checkRv: false })
  }
}

/** The Request and Limit columns of `kubectl get quota`: `key: used/hard`, limits.* in the second. */
export function quotaCells(quota: Obj): [string, string] {
  const status = (quota.status ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> }
  const keys = Object.keys(status.hard ?? {}).sort()
  const cell = (ks: string[]): string => ks.map((k) => `${k}: ${status.used?.[k] ?? '0'}/${status.hard![k]}`).join(', ')
  return [cell(keys.filter((k) => !k.startsWith('limits.'))), cell(keys.filter((k) => k.startsWith('limits.')))]
}
