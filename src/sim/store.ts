import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { ResourceDef } from './resources.js'
import { alreadyExists, conflict, expired, notFound } from './status.js'
import { qualified } from './resources.js'
import { deletionComplete, keepDeletionMarks, markForDeletion } from './lifecycle.js'

export type Obj = { apiVersion?: string; kind?: string; metadata: Meta; [k: string]: unknown }
export interface Meta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string }>
  [k: string]: unknown
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: Obj
  rv: number
  def: ResourceDef
}

const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
const HISTORY = 1000

/** The cluster's objects, in memory, with resourceVersions that grow across all kinds. */
export class Store {
  private readonly objects = new Map<string, { def: ResourceDef; obj: Obj }>()
  private rv = 1000
  private readonly listCache = new Map<string, { rv: number; size: number; objs: Obj[] }>()
  private readonly history: WatchEvent[] = []
  readonly events = new EventEmitter()
  /** Set when the store serves ServiceAccounts: then each namespace created gets its `default` one. */
  serviceAccounts?: ResourceDef

  constructor(private readonly now: () => Date = () => new Date()) {
    this.events.setMaxListeners(0)
  }

  get resourceVersion(): number {
    return this.rv
  }

  /** The oldest resourceVersion a watch can still start from. */
  get oldestRv(): number {
    return this.history.length > 0 ? this.history[0]!.rv - 1 : this.rv
  }

  private key(def: ResourceDef, ns: string | undefined, name: string): string {
    return `${def.group}/${def.resource}/${def.namespaced ? (ns ?? '') : ''}/${name}`
  }

  get(def: ResourceDef, ns: string | undefined, name: string): Obj {
    const e = this.objects.get(this.key(def, ns, name))
    if (!e) throw notFound(qualified(def), def.group, def.resource, name)
    return structuredClone(e.obj)
  }

  tryGet(def: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    const e = this.objects.get(this.key(def, ns, name))
    return e ? structuredClone(e.obj) : undefined
  }

  /**
   * The objects of a kind (in a namespace), in the order etcd keeps their keys (namespace/name, byte
   * order, as the API server lists them). Copies unless `shared` (for readers that only serialize:
   * a page of a 50,000-object list must not copy all 50,000).
   */
  list(def: ResourceDef, ns?: string, opts: { shared?: boolean } = {}): Obj[] {
    // Paging through a big collection asks for the same sorted list again and again: keep it while
    // nothing in the store changed (every write moves the resourceVersion).
    const cacheKey = `${def.group}/${def.resource}/${ns ?? ''}`
    const cached = this.listCache.get(cacheKey)
    if (opts.shared && cached && cached.rv === this.rv && cached.size === this.objects.size) return cached.objs
    const found: Array<{ key: string; obj: Obj }> = []
    for (const e of this.objects.values()) {
      if (e.def !== def) continue
      if (def.namespaced && ns && e.obj.metadata.namespace !== ns) continue
      found.push({ key: `${e.obj.metadata.namespace ?? ''}/${e.obj.metadata.name}`, obj: e.obj })
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    if (!opts.shared) return found.map((f) => structuredClone(f.obj))
    const objs = found.map((f) => f.obj)
    this.listCache.set(cacheKey, { rv: this.rv, size: this.objects.size, objs })
    return objs
  }

  /** Fills in name (from generateName), uid, creationTimestamp; checks the name is free. Persists unless dryRun. */
  create(def: ResourceDef, ns: string | undefined, input: Obj, opts: { dryRun?: boolean; keepTimestamp?: boolean } = {}): Obj {
    const obj = structuredClone(input)
    obj.apiVersion = def.group ? `${def.group}/${def.version}` : def.version
    obj.kind = def.kind
    const meta = obj.metadata
    if (!meta.name && meta.generateName) {
      for (let i = 0; i < 8; i++) {
        let s = ''
        for (let j = 0; j < 5; j++) s += GEN_ALPHABET[Math.floor(Math.random() * GEN_ALPHABET.length)]
        meta.name = `${meta.generateName.slice(0, 58)}${s}`
        if (!this.objects.has(this.key(def, ns, meta.name))) break
      }
    }
    if (def.namespaced) meta.namespace = ns
    else delete meta.namespace
    // The API server labels every namespace with its name (what namespaceSelectors usually match).
    if (def.resource === 'namespaces' && meta.name) meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name }
    if (this.objects.has(this.key(def, ns, meta.name!))) throw alreadyExists(qualified(def), def.group, def.resource, meta.name!)
    meta.uid = randomUUID()
    if (!opts.keepTimestamp || !meta.creationTimestamp) meta.creationTimestamp = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z')
    if (opts.dryRun) {
      delete meta.resourceVersion
      return obj
    }
    meta.resourceVersion = String(++this.rv)
    this.objects.set(this.key(def, ns, meta.name!), { def, obj })
    this.emit('ADDED', def, obj)
    // The service-account controller gives every new namespace its `default` ServiceAccount.
    if (def.resource === 'namespaces' && this.serviceAccounts) {
      const sa = this.serviceAccounts
      if (!this.objects.has(this.key(sa, meta.name, 'default'))) this.create(sa, meta.name, { metadata: { name: 'default' } })
    }
    return structuredClone(obj)
  }

  update(def: ResourceDef, ns: string | undefined, input: Obj, opts: { dryRun?: boolean; checkRv?: boolean } = {}): Obj {
    const k = this.key(def, ns, input.metadata.name!)
    const cur = this.objects.get(k)
    if (!cur) throw notFound(qualified(def), def.group, def.resource, input.metadata.name!)
    if (opts.checkRv !== false && input.metadata.resourceVersion && input.metadata.resourceVersion !== cur.obj.metadata.resourceVersion) {
      throw conflict(qualified(def), def.group, def.resource, input.metadata.name!)
    }
    const obj = structuredClone(input)
    obj.apiVersion = cur.obj.apiVersion
    obj.kind = cur.obj.kind
    obj.metadata = { ...obj.metadata, uid: cur.obj.metadata.uid, creationTimestamp: cur.obj.metadata.creationTimestamp, ...(def.namespaced ? { namespace: ns } : {}) }
    keepDeletionMarks(cur.obj.metadata, obj.metadata)
    if (opts.dryRun) return obj
    obj.metadata.resourceVersion = String(++this.rv)
    this.objects.set(k, { def, obj })
    // The update that removes the last finalizer of an object being deleted (whose grace period is
    // over) completes the deletion: watchers see it DELETED.
    if (deletionComplete(obj)) return this.remove(k, def)
    this.emit('MODIFIED', def, obj)
    return structuredClone(obj)
  }

  /**
   * Deletes an object. Background (the default): dependents whose owners are all gone are collected
   * afterwards. Foreground: the owner stays, marked with deletionTimestamp and the foregroundDeletion
   * finalizer, until its dependents are gone. Orphan: dependents lose their ownerReference and stay.
   */
  delete(def: ResourceDef, ns: string | undefined, name: string, opts: { dryRun?: boolean; propagation?: 'Background' | 'Foreground' | 'Orphan'; gracePeriodSeconds?: number } = {}): Obj {
    const k = this.key(def, ns, name)
    const cur = this.objects.get(k)
    if (!cur) throw notFound(qualified(def), def.group, def.resource, name)
    if (opts.dryRun) return structuredClone(cur.obj)
    // Graceful deletion and finalizers (lifecycle.ts): the object stays, marked, until both are done.
    const marked = markForDeletion(def, cur.obj, opts.gracePeriodSeconds, this.now())
    if (marked) {
      if (marked.changed) {
        cur.obj = { ...marked.obj, metadata: { ...marked.obj.metadata, resourceVersion: String(++this.rv) } }
        this.emit('MODIFIED', def, cur.obj)
      }
      return structuredClone(cur.obj)
    }
    const uid = cur.obj.metadata.uid
    const dependents = [...this.objects.values()].filter((e) => (e.obj.metadata.ownerReferences ?? []).some((o) => o.uid === uid))
    if (opts.propagation === 'Orphan') {
      for (const d of dependents) {
        d.obj = { ...d.obj, metadata: { ...d.obj.metadata, ownerReferences: (d.obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid), resourceVersion: String(++this.rv) } }
        this.emit('MODIFIED', d.def, d.obj)
      }
    }
    if (opts.propagation === 'Foreground' && dependents.length > 0) {
      const now = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z')
      cur.obj = { ...cur.obj, metadata: { ...cur.obj.metadata, deletionTimestamp: now, finalizers: [...((cur.obj.metadata.finalizers as string[] | undefined) ?? []), 'foregroundDeletion'], resourceVersion: String(++this.rv) } }
      this.emit('MODIFIED', def, cur.obj)
      const marked = structuredClone(cur.obj)
      // The garbage collector deletes the dependents first, then the owner.
      setImmediate(() => {
        for (const d of dependents) if (this.objects.has(this.key(d.def, d.obj.metadata.namespace, d.obj.metadata.name!))) this.delete(d.def, d.obj.metadata.namespace, d.obj.metadata.name!, { propagation: 'Foreground' })
        if (this.objects.has(k)) this.remove(k, def)
      })
      return marked
    }
    return this.remove(k, def)
  }

  private remove(k: string, def: ResourceDef): Obj {
    const cur = this.objects.get(k)!
    this.objects.delete(k)
    const obj = { ...cur.obj, metadata: { ...cur.obj.metadata, resourceVersion: String(++this.rv) } }
    this.emit('DELETED', def, obj)
    if (def.resource === 'namespaces') {
      for (const [key, e] of [...this.objects]) if (e.def.namespaced && e.obj.metadata.namespace === obj.metadata.name) {
        this.objects.delete(key)
        this.emit('DELETED', e.def, e.obj)
      }
    }
    this.collectGarbage()
    return structuredClone(obj)
  }

  /** Background garbage collection: dependents whose every owner uid is gone are deleted. */
  collectGarbage(): void {
    const uids = new Set([...this.objects.values()].map((e) => e.obj.metadata.uid))
    let again = true
    while (again) {
      again = false
      for (const [key, e] of [...this.objects]) {
        const owners = e.obj.metadata.ownerReferences ?? []
        if (owners.length > 0 && owners.every((o) => !uids.has(o.uid))) {
          this.objects.delete(key)
          uids.delete(e.obj.metadata.uid)
          this.emit('DELETED', e.def, { ...e.obj, metadata: { ...e.obj.metadata, resourceVersion: String(++this.rv) } })
          again = true
        }
      }
    }
  }

  /** Events after `rv` for a watch that starts from a resourceVersion; throws 410 when too old. */
  since(def: ResourceDef, rv: number): WatchEvent[] {
    if (rv < this.oldestRv) throw expired(`too old resource version: ${rv} (${this.oldestRv})`)
    return this.history.filter((e) => e.def === def && e.rv > rv)
  }

  private emit(type: WatchEvent['type'], def: ResourceDef, obj: Obj): void {
    const ev: WatchEvent = { type, def, object: structuredClone(obj), rv: Number(obj.metadata.resourceVersion) }
    this.history.push(ev)
    if (this.history.length > HISTORY) this.history.shift()
    this.events.emit('change', ev)
  }
}
