import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { ResourceDef } from './resources.js'
import { alreadyExists, conflict, expired, notFound } from './status.js'
import { qualified } from './resources.js'
import { prepareWorkload } from './workload-defaults.js'
import { deletionComplete, isNamespaces, keepDeletionMarks, markForDeletion, namespaceDeleteStep, namespaceDeletionComplete, prepareNamespaceForCreate } from './lifecycle.js'

// The object types live in object.ts (types only), so the modules store.ts calls need not import it.
export type { Meta, Obj } from './object.js'
import type { Obj } from './object.js'
import { rfc3339 } from './time.js'

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: Obj
  rv: number
  def: ResourceDef
}

/** The index key of a core event: "namespace/involvedObject.name". */
function involvedKey(e: Entry): string | undefined {
  if (e.def.group !== '' || e.def.resource !== 'events') return undefined
  const name = (e.obj.involvedObject as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? `${e.obj.metadata.namespace ?? ''}/${name}` : undefined
}

/**
 * The `involvedObject.name` a field selector asks for with `=` or `==` (the store's event index can
 * then narrow the list; the selector is still applied to what it returns), or undefined.
 */
export function involvedObjectNameOf(fieldSelector: string | null): string | undefined {
  for (const part of (fieldSelector ?? '').split(',')) {
    const m = /^\s*involvedObject\.name\s*==?\s*(.*?)\s*$/.exec(part)
    if (m && !part.includes('!=')) return m[1]
  }
  return undefined
}

const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

/** Five characters of the API server's name alphabet (no vowels, no look-alike digits): a generateName suffix. */
export function randomSuffix(): string {
  let s = ''
  for (let j = 0; j < 5; j++) s += GEN_ALPHABET[Math.floor(Math.random() * GEN_ALPHABET.length)]
  return s
}
const HISTORY = 1000

type Entry = { def: ResourceDef; obj: Obj }

/**
 * How much work the store did, in objects visited (listed, sorted, scanned for owners): what tests
 * count to show a request costs the same in an empty namespace and in one with 50,000 objects.
 */
export interface StoreWork {
  visited: number
}

/**
 * The cluster's objects, in memory, with resourceVersions that grow across all kinds. Indexed by
 * kind and namespace (a list reads only its own collection) and by owner uid (garbage collection
 * looks only at an object's dependents), so a request's cost does not grow with the namespace.
 */
export class Store {
  private readonly objects = new Map<string, Entry>()
  /** kind → namespace → name → entry. */
  private readonly byKind = new Map<string, Map<string, Map<string, Entry>>>()
  /** Per kind, bumped by every write of that kind: a sorted list stays valid while it is unchanged. */
  private readonly kindRevision = new Map<string, number>()
  /** owner uid → keys of the objects that name it in their ownerReferences. */
  private readonly byOwner = new Map<string, Set<string>>()
  private readonly uids = new Set<string>()
  /** Core events by "namespace/involvedObject.name": a pod's events are found without reading all of them. */
  private readonly eventsOf = new Map<string, Set<Entry>>()
  readonly work: StoreWork = { visited: 0 }
  private rv = 1000
  private readonly listCache = new Map<string, { revision: number; objs: Obj[] }>()
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

  /** Stores (or replaces) an entry under its key, in every index. */
  private put(k: string, e: Entry): void {
    const old = this.objects.get(k)
    if (old) this.unindex(k, old)
    this.objects.set(k, e)
    const kind = `${e.def.group}/${e.def.resource}`
    const ns = e.def.namespaced ? (e.obj.metadata.namespace ?? '') : ''
    let namespaces = this.byKind.get(kind)
    if (!namespaces) this.byKind.set(kind, (namespaces = new Map()))
    let names = namespaces.get(ns)
    if (!names) namespaces.set(ns, (names = new Map()))
    names.set(e.obj.metadata.name!, e)
    this.kindRevision.set(kind, (this.kindRevision.get(kind) ?? 0) + 1)
    if (e.obj.metadata.uid) this.uids.add(e.obj.metadata.uid)
    const about = involvedKey(e)
    if (about) {
      let set = this.eventsOf.get(about)
      if (!set) this.eventsOf.set(about, (set = new Set()))
      set.add(e)
    }
    for (const o of e.obj.metadata.ownerReferences ?? []) {
      let deps = this.byOwner.get(o.uid)
      if (!deps) this.byOwner.set(o.uid, (deps = new Set()))
      deps.add(k)
    }
  }

  /** Removes an entry from the store and every index. */
  private drop(k: string): Entry | undefined {
    const e = this.objects.get(k)
    if (!e) return undefined
    this.objects.delete(k)
    this.unindex(k, e)
    return e
  }

  private unindex(k: string, e: Entry): void {
    const kind = `${e.def.group}/${e.def.resource}`
    const ns = e.def.namespaced ? (e.obj.metadata.namespace ?? '') : ''
    const names = this.byKind.get(kind)?.get(ns)
    names?.delete(e.obj.metadata.name!)
    if (names?.size === 0) this.byKind.get(kind)!.delete(ns)
    this.kindRevision.set(kind, (this.kindRevision.get(kind) ?? 0) + 1)
    if (e.obj.metadata.uid) this.uids.delete(e.obj.metadata.uid)
    const about = involvedKey(e)
    if (about) {
      const set = this.eventsOf.get(about)
      set?.delete(e)
      if (set?.size === 0) this.eventsOf.delete(about)
    }
    for (const o of e.obj.metadata.ownerReferences ?? []) {
      const deps = this.byOwner.get(o.uid)
      deps?.delete(k)
      if (deps?.size === 0) this.byOwner.delete(o.uid)
    }
  }

  /** The entries that name `uid` as an owner. */
  private dependentsOf(uid: string | undefined): Array<{ key: string; e: Entry }> {
    const out: Array<{ key: string; e: Entry }> = []
    for (const key of (uid ? this.byOwner.get(uid) : undefined) ?? []) {
      const e = this.objects.get(key)
      if (e) out.push({ key, e })
    }
    this.work.visited += out.length
    return out
  }

  /** Copies of the objects that name `uid` in their ownerReferences (through the owner index: no scan). */
  dependents(uid: string): Obj[] {
    return this.dependentsOf(uid).map((d) => structuredClone(d.e.obj))
  }

  /** How many objects of a kind there are (in a namespace), without listing them. */
  count(def: ResourceDef, ns?: string): number {
    const namespaces = this.byKind.get(`${def.group}/${def.resource}`)
    if (!namespaces) return 0
    if (def.namespaced && ns) return namespaces.get(ns)?.size ?? 0
    let n = 0
    for (const names of namespaces.values()) n += names.size
    return n
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
  list(def: ResourceDef, ns?: string, opts: { shared?: boolean; /** Only core events about the object of this name (a field selector the caller still applies). */ involvedObjectName?: string } = {}): Obj[] {
    if (opts.involvedObjectName !== undefined && def.group === '' && def.resource === 'events' && ns) {
      const found = [...(this.eventsOf.get(`${ns}/${opts.involvedObjectName}`) ?? [])].map((e) => e.obj)
      this.work.visited += found.length
      found.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0))
      return opts.shared ? found : found.map((o) => structuredClone(o))
    }
    // Paging through a big collection asks for the same sorted list again and again: keep it while
    // nothing of that kind changed.
    const kind = `${def.group}/${def.resource}`
    const scoped = def.namespaced && ns ? ns : ''
    const cacheKey = `${kind}/${scoped}`
    const revision = this.kindRevision.get(kind) ?? 0
    const cached = this.listCache.get(cacheKey)
    let objs: Obj[]
    if (cached && cached.revision === revision) objs = cached.objs
    else {
      const namespaces = this.byKind.get(kind)
      const found: Array<{ key: string; obj: Obj }> = []
      for (const [n, names] of namespaces ?? []) {
        if (scoped && n !== scoped) continue
        for (const e of names.values()) found.push({ key: `${e.obj.metadata.namespace ?? ''}/${e.obj.metadata.name}`, obj: e.obj })
      }
      this.work.visited += found.length
      found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      objs = found.map((f) => f.obj)
      this.listCache.set(cacheKey, { revision, objs })
    }
    if (opts.shared) return objs
    this.work.visited += objs.length
    return objs.map((o) => structuredClone(o))
  }

  /** Fills in name (from generateName), uid, creationTimestamp; checks the name is free. Persists unless dryRun. */
  create(def: ResourceDef, ns: string | undefined, input: Obj, opts: { dryRun?: boolean; keepTimestamp?: boolean; /** The caller hands the object over (a scenario seeding the store): not copied. */ owned?: boolean } = {}): Obj {
    const obj = opts.owned ? input : structuredClone(input)
    obj.apiVersion = def.group ? `${def.group}/${def.version}` : def.version
    obj.kind = def.kind
    const meta = obj.metadata
    if (!meta.name && meta.generateName) {
      for (let i = 0; i < 8; i++) {
        meta.name = `${meta.generateName.slice(0, 58)}${randomSuffix()}`
        if (!this.objects.has(this.key(def, ns, meta.name))) break
      }
    }
    if (def.namespaced) meta.namespace = ns
    else delete meta.namespace
    // The API server labels every namespace with its name (what namespaceSelectors usually match).
    if (def.resource === 'namespaces' && meta.name) meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name }
    // Active, with the `kubernetes` finalizer the namespace controller removes when it deletes it.
    if (isNamespaces(def)) prepareNamespaceForCreate(obj)
    if (this.objects.has(this.key(def, ns, meta.name!))) throw alreadyExists(qualified(def), def.group, def.resource, meta.name!)
    meta.uid = randomUUID()
    // The workload strategies' defaults, some of which need the uid (a Job's selector).
    prepareWorkload(def, obj)
    if (!opts.keepTimestamp || !meta.creationTimestamp) meta.creationTimestamp = rfc3339(this.now())
    if (opts.dryRun) {
      delete meta.resourceVersion
      return obj
    }
    meta.resourceVersion = String(++this.rv)
    this.put(this.key(def, ns, meta.name!), { def, obj })
    this.emit('ADDED', def, obj)
    // The service-account controller gives every new namespace its `default` ServiceAccount.
    if (def.resource === 'namespaces' && this.serviceAccounts) {
      const sa = this.serviceAccounts
      if (!this.objects.has(this.key(sa, meta.name, 'default'))) this.create(sa, meta.name, { metadata: { name: 'default' } })
    }
    return opts.owned ? obj : structuredClone(obj)
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
    this.put(k, { def, obj })
    // The update that removes the last finalizer of an object being deleted (whose grace period is
    // over) completes the deletion: watchers see it DELETED.
    if (isNamespaces(def) ? namespaceDeletionComplete(obj) : deletionComplete(obj)) return this.remove(k, def)
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
    // A namespace is first marked Terminating; the namespace controller empties it and deletes it again (namespaces.ts).
    if (isNamespaces(def)) {
      const step = namespaceDeleteStep(cur.obj, this.now())
      if (step.step !== 'remove') {
        if (!step.changed) return structuredClone(cur.obj)
        this.put(k, { def, obj: { ...step.obj, metadata: { ...step.obj.metadata, resourceVersion: String(++this.rv) } } })
        this.emit('MODIFIED', def, this.objects.get(k)!.obj)
        return structuredClone(this.objects.get(k)!.obj)
      }
      return this.remove(k, def)
    }
    // Graceful deletion and finalizers (lifecycle.ts): the object stays, marked, until both are done.
    const marked = markForDeletion(def, cur.obj, opts.gracePeriodSeconds, this.now())
    if (marked) {
      if (marked.changed) {
        this.put(k, { def, obj: { ...marked.obj, metadata: { ...marked.obj.metadata, resourceVersion: String(++this.rv) } } })
        this.emit('MODIFIED', def, this.objects.get(k)!.obj)
      }
      return structuredClone(this.objects.get(k)!.obj)
    }
    const uid = cur.obj.metadata.uid
    const deps = this.dependentsOf(uid)
    const dependents = deps.map((d) => d.e)
    if (opts.propagation === 'Orphan') {
      for (const d of deps) {
        const obj = { ...d.e.obj, metadata: { ...d.e.obj.metadata, ownerReferences: (d.e.obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid), resourceVersion: String(++this.rv) } }
        this.put(d.key, { def: d.e.def, obj })
        this.emit('MODIFIED', d.e.def, obj)
      }
    }
    if (opts.propagation === 'Foreground' && dependents.length > 0) {
      const now = rfc3339(this.now())
      this.put(k, { def, obj: { ...cur.obj, metadata: { ...cur.obj.metadata, deletionTimestamp: now, finalizers: [...((cur.obj.metadata.finalizers as string[] | undefined) ?? []), 'foregroundDeletion'], resourceVersion: String(++this.rv) } } })
      const current = this.objects.get(k)!
      this.emit('MODIFIED', def, current.obj)
      const marked = structuredClone(current.obj)
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
    const cur = this.drop(k)!
    const obj = { ...cur.obj, metadata: { ...cur.obj.metadata, resourceVersion: String(++this.rv) } }
    this.emit('DELETED', def, obj)
    const orphans: string[] = [cur.obj.metadata.uid!]
    if (def.resource === 'namespaces') {
      for (const namespaces of this.byKind.values()) {
        const names = namespaces.get(obj.metadata.name!)
        if (!names) continue
        for (const e of [...names.values()]) {
          this.work.visited++
          if (!e.def.namespaced) continue
          const key = this.key(e.def, e.obj.metadata.namespace, e.obj.metadata.name!)
          this.drop(key)
          orphans.push(e.obj.metadata.uid!)
          this.emit('DELETED', e.def, e.obj)
        }
      }
    }
    this.collectDependents(orphans)
    return structuredClone(obj)
  }

  /**
   * Background garbage collection after owners went away: their dependents whose every owner uid is
   * gone are deleted, and theirs in turn (looking only at dependents, through the owner index).
   */
  private collectDependents(goneUids: string[]): void {
    const queue = [...goneUids]
    while (queue.length > 0) {
      for (const { key, e } of this.dependentsOf(queue.shift())) {
        if (!this.objects.has(key)) continue
        const owners = e.obj.metadata.ownerReferences ?? []
        if (owners.some((o) => this.uids.has(o.uid))) continue
        this.drop(key)
        queue.push(e.obj.metadata.uid!)
        this.emit('DELETED', e.def, { ...e.obj, metadata: { ...e.obj.metadata, resourceVersion: String(++this.rv) } })
      }
    }
  }

  /** Background garbage collection over the whole store: dependents whose every owner uid is gone are deleted. */
  collectGarbage(): void {
    const dangling: string[] = []
    for (const [owner] of this.byOwner) if (!this.uids.has(owner)) dangling.push(owner)
    this.collectDependents(dangling)
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
