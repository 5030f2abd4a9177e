/**
 * Field ownership as the API server keeps it in `metadata.managedFields`: which manager set which
 * field, by server-side apply (`operation: Apply`) or by any other write (`operation: Update`). An
 * apply that changes a field another manager owns is a conflict (409) unless forced; a field an
 * applier stops applying is removed when nobody else owns it.
 *
 * A field path is a list of FieldsV1 keys (`f:spec`, `k:{"name":"app"}`, `v:"finalizer"`), kept
 * joined by newlines (JSON never holds a raw newline) so that sets of paths are plain string sets.
 */
import { mergeKeyOf, strategicMerge, withoutDirectives } from './merge.js'
import { StatusError } from './status.js'
import type { Obj } from './store.js'

type Json = unknown
type JsonMap = Record<string, Json>

const isMap = (v: Json): v is JsonMap => v !== null && typeof v === 'object' && !Array.isArray(v)

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Json
  subresource?: string
}

/** Which part of an object a write may own: the status subresource owns the status, the object the rest. */
export type Part = 'object' | 'status'

const SEP = '\n'
/** The value recorded for a keyed list item or set member: it exists, its content is compared field by field. */
const PRESENT = '<present>'
/** Metadata the server owns; no manager ever does. */
const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'])
/** Lists of strings that are sets: their members are owned one by one. */
const SET_LISTS = new Set(['finalizers'])

/** Keys sorted, so that equal values compare equal whatever their key order (and as Go encodes a map). */
function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (!isMap(v)) return JSON.stringify(v) ?? 'null'
  return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
}

/**
 * Every owned path of a value with what it holds there: leaves (scalars, empty maps, atomic lists)
 * with their value, keyed list items and set members as present.
 */
export function leavesOf(obj: Json, part: Part): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (v: JsonMap, keys: string[], names: string[]): void => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue
      if (names.length === 0) {
        if (k === 'apiVersion' || k === 'kind') continue
        if ((k === 'status') !== (part === 'status')) continue
      }
      if (names.length === 1 && names[0] === 'metadata' && SERVER_META.has(k)) continue
      const here = [...keys, `f:${k}`]
      if (Array.isArray(x)) {
        const key = mergeKeyOf(names, k)
        if (key && x.length > 0 && x.every((item) => isMap(item) && item[key] !== undefined)) {
          for (const item of x as JsonMap[]) {
            const at = [...here, `k:${JSON.stringify({ [key]: item[key] })}`]
            out.set(at.join(SEP), PRESENT)
            walk(item, at, [...names, k])
          }
        } else if (SET_LISTS.has(k) && x.length > 0 && x.every((m) => typeof m === 'string')) {
          for (const m of x) out.set([...here, `v:${JSON.stringify(m)}`].join(SEP), PRESENT)
        } else out.set(here.join(SEP), canonical(x))
      } else if (isMap(x) && Object.keys(x).length > 0) walk(x, here, [...names, k])
      else out.set(here.join(SEP), canonical(x))
    }
  }
  if (isMap(obj)) walk(obj, [], [])
  return out
}

/** A set of paths in FieldsV1 form: an owned node with children carries `.`, an owned leaf is `{}`. */
export function toFieldsV1(paths: Iterable<string>): JsonMap {
  type Node = { owned: boolean; children: globalThis.Map<string, Node> }
  const root: Node = { owned: false, children: new globalThis.Map() }
  for (const p of paths) {
    let node = root
    for (const k of p.split(SEP)) {
      let next = node.children.get(k)
      if (!next) node.children.set(k, (next = { owned: false, children: new globalThis.Map() }))
      node = next
    }
    node.owned = true
  }
  const render = (node: Node): JsonMap => {
    const out: JsonMap = node.owned && node.children.size > 0 ? { '.': {} } : {}
    for (const k of [...node.children.keys()].sort()) out[k] = render(node.children.get(k)!)
    return out
  }
  return render(root)
}

/** The paths a FieldsV1 tree owns. */
export function fromFieldsV1(tree: Json): Set<string> {
  const out = new Set<string>()
  const walk = (node: Json, keys: string[]): void => {
    if (!isMap(node)) return
    const children = Object.keys(node).filter((k) => k !== '.')
    if (keys.length > 0 && (children.length === 0 || '.' in node)) out.add(keys.join(SEP))
    for (const k of children) walk(node[k], [...keys, k])
  }
  walk(tree, [])
  return out
}

/** A path as the API server prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(path: string): string {
  return path
    .split(SEP)
    .map((el) => {
      const body = el.slice(2)
      if (el.startsWith('f:')) return `.${body}`
      if (el.startsWith('k:')) {
        const key = JSON.parse(body) as JsonMap
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`
      }
      if (el.startsWith('v:')) return `[=${body}]`
      return `[${body}]`
    })
    .join('')
}

/** The managedFields of an object, as entries (anything malformed is dropped, as decoding would refuse it). */
function entriesOf(obj: Obj | undefined): ManagedFieldsEntry[] {
  const list = obj?.metadata.managedFields
  if (!Array.isArray(list)) return []
  return (list as Json[]).filter((e): e is ManagedFieldsEntry => isMap(e) && typeof e.manager === 'string' && (e.operation === 'Apply' || e.operation === 'Update')).map((e) => ({ ...e }))
}

const sameEntry = (e: ManagedFieldsEntry, manager: string, operation: 'Apply' | 'Update', apiVersion: string, subresource: string | undefined): boolean =>
  e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '') && (operation === 'Apply' || e.apiVersion === apiVersion)

/** How a conflict names a manager: `"m"`, `"m" using apps/v1` for an Update, `"m" with subresource "status"`. */
function managerName(e: ManagedFieldsEntry): string {
  if (e.operation === 'Update') return `${JSON.stringify(e.manager)} using ${e.apiVersion}`
  return e.subresource ? `${JSON.stringify(e.manager)} with subresource ${JSON.stringify(e.subresource)}` : JSON.stringify(e.manager)
}

function conflictError(conflicts: Array<{ path: string; owner: ManagedFieldsEntry }>): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${managerName(c.owner)}`, field: pathString(c.path) }))
  let message: string
  if (conflicts.length === 1) message = `Apply failed with 1 conflict: conflict with ${managerName(conflicts[0]!.owner)}: ${pathString(conflicts[0]!.path)}`
  else {
    const byManager = new Map<string, string[]>()
    for (const c of conflicts) byManager.set(managerName(c.owner), [...(byManager.get(managerName(c.owner)) ?? []), pathString(c.path)])
    const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)])
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`
  }
  return new StatusError(409, message, 'Conflict', { causes })
}

/** Deletes one path from a value; maps it leaves empty go too (below the top level). */
function removePath(obj: JsonMap, path: string): void {
  const keys = path.split(SEP)
  const chain: Array<{ holder: JsonMap | Json[]; key: string }> = []
  let cur: Json = obj
  for (const k of keys) {
    if (!cur || typeof cur !== 'object') return
    chain.push({ holder: cur as JsonMap | Json[], key: k })
    cur = step(cur, k)
    if (cur === undefined) return
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const { holder, key } = chain[i]!
    if (i < chain.length - 1) {
      const child = step(holder, key)
      const empty = isMap(child) ? Object.keys(child).length === 0 : Array.isArray(child) && child.length === 0
      if (!empty || i === 0) return
    }
    if (Array.isArray(holder)) {
      const at = holder.indexOf(step(holder, key))
      if (at >= 0) holder.splice(at, 1)
    } else delete holder[key.slice(2)]
  }
}

/** One FieldsV1 step into a value: a field of a map, the keyed item or the member of a list. */
function step(v: Json, key: string): Json {
  const body = key.slice(2)
  if (key.startsWith('f:')) return isMap(v) ? v[body] : undefined
  if (!Array.isArray(v)) return undefined
  if (key.startsWith('k:')) {
    const want = JSON.parse(body) as JsonMap
    return v.find((item) => isMap(item) && Object.entries(want).every(([k, x]) => item[k] === x))
  }
  if (key.startsWith('v:')) return v.find((m) => canonical(m) === canonical(JSON.parse(body)))
  return v[Number(body)]
}

/** Whether a set holds the path or anything below it. */
const ownsWithin = (set: Set<string>, path: string): boolean => set.has(path) || [...set].some((p) => p.startsWith(path + SEP))

export interface WriteOptions {
  manager: string
  apiVersion: string
  subresource?: string
  now: string
}

/**
 * Records a create, update or patch (any write but an apply) in `next`'s managedFields: the writer's
 * Update entry gains every field the write set or changed, and those fields, with the ones it
 * removed, leave every other manager's set. `managedFields` sent as `[{}]` strips them all.
 */
export function recordUpdate(old: Obj | undefined, next: Obj, opts: WriteOptions): void {
  next.metadata = { ...next.metadata }
  const sent = next.metadata.managedFields
  if (Array.isArray(sent) && sent.length === 1 && isMap(sent[0]) && Object.keys(sent[0]).length === 0) {
    delete next.metadata.managedFields
    return
  }
  const entries = Array.isArray(sent) && sent.length > 0 ? entriesOf(next) : entriesOf(old)
  const part: Part = opts.subresource === 'status' ? 'status' : 'object'
  const before = old ? leavesOf(old, part) : new Map<string, string>()
  const after = leavesOf(next, part)
  const changed = [...after].filter(([p, v]) => before.get(p) !== v).map(([p]) => p)
  const gone = [...before.keys()].filter((p) => !after.has(p))
  const kept: ManagedFieldsEntry[] = []
  let mine: ManagedFieldsEntry | undefined
  for (const e of entries) {
    const set = fromFieldsV1(e.fieldsV1)
    if (sameEntry(e, opts.manager, 'Update', opts.apiVersion, opts.subresource)) {
      mine = e
      for (const p of gone) set.delete(p)
      for (const p of changed) set.add(p)
      if (changed.length > 0) e.time = opts.now
    } else for (const p of [...changed, ...gone]) set.delete(p)
    e.fieldsV1 = toFieldsV1(set)
    if (set.size > 0) kept.push(e)
  }
  if (!mine && changed.length > 0) kept.push({ manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, time: opts.now, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(changed), ...(opts.subresource ? { subresource: opts.subresource } : {}) })
  if (kept.length > 0) next.metadata.managedFields = kept
  else delete next.metadata.managedFields
}

/**
 * Server-side apply of a configuration onto the live object. The configuration's fields win (lists
 * with a merge key merge item by item). A field it changes that another manager owns is a conflict,
 * 409, unless `force`: then the applier takes it over. A field it applied before and no longer
 * applies is removed, unless another manager owns it. The applier's Apply entry is the set it sent.
 */
export function applyWithManagers(live: Obj | undefined, config: Obj, opts: WriteOptions & { force: boolean }): Obj {
  const cfg = withoutDirectives(config) as Obj
  const part: Part = opts.subresource === 'status' ? 'status' : 'object'
  const applied = leavesOf(cfg, part)
  const current = live ? leavesOf(live, part) : new Map<string, string>()
  const entries = entriesOf(live).map((e) => ({ entry: e, set: fromFieldsV1(e.fieldsV1) }))
  const isMine = (e: ManagedFieldsEntry): boolean => sameEntry(e, opts.manager, 'Apply', opts.apiVersion, opts.subresource)
  const others = entries.filter((x) => !isMine(x.entry))
  const conflicts: Array<{ path: string; owner: ManagedFieldsEntry }> = []
  for (const [p, v] of applied) {
    if (current.get(p) === v) continue
    for (const o of others) if (o.set.has(p)) conflicts.push({ path: p, owner: o.entry })
  }
  const forced = opts.force || (opts.manager === 'kubectl' && conflicts.every((c) => lastAppliedPaths(live).has(c.path)))
  if (conflicts.length > 0 && !forced) throw conflictError(conflicts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
  for (const c of conflicts) for (const o of others) if (o.entry === c.owner) o.set.delete(c.path)
  const merged = structuredClone((live ? strategicMerge(live, cfg) : cfg) as Obj)
  const before = entries.find((x) => isMine(x.entry))?.set ?? new Set<string>()
  const dropped = [...before].filter((p) => !applied.has(p)).sort((a, b) => a.split(SEP).length - b.split(SEP).length)
  for (const p of dropped) if (!others.some((o) => ownsWithin(o.set, p))) removePath(merged, p)
  const mine: ManagedFieldsEntry = { manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion, time: opts.now, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(applied.keys()), ...(opts.subresource ? { subresource: opts.subresource } : {}) }
  const result: ManagedFieldsEntry[] = []
  let placed = false
  for (const x of entries) {
    if (isMine(x.entry)) {
      result.push(mine)
      placed = true
    } else if (x.set.size > 0) result.push({ ...x.entry, fieldsV1: toFieldsV1(x.set) })
  }
  if (!placed) result.push(mine)
  merged.metadata = { ...merged.metadata, managedFields: result }
  const annotations = merged.metadata.annotations as Record<string, string> | undefined
  if (opts.manager === 'kubectl' && annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _, ...rest } = (cfg.metadata.annotations ?? {}) as Record<string, string>
    const lastConfig = structuredClone(cfg)
    if (cfg.metadata.annotations !== undefined) lastConfig.metadata.annotations = rest
    merged.metadata.annotations = { ...annotations, [LAST_APPLIED]: `${canonical(lastConfig)}\n` }
  }
  return merged
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

/**
 * The fields of the configuration client-side `kubectl apply` last applied (its annotation). The
 * API server lets `kubectl apply --server-side` (manager `kubectl`) take these over without a
 * conflict, so that moving from client-side to server-side apply does not conflict with
 * `kubectl-client-side-apply`; any other conflict still refuses the apply.
 */
function lastAppliedPaths(live: Obj | undefined): Set<string> {
  const text = (live?.metadata.annotations as Record<string, string> | undefined)?.[LAST_APPLIED]
  if (!text) return new Set()
  try {
    return new Set(leavesOf(JSON.parse(text), 'object').keys())
  } catch {
    return new Set()
  }
}
