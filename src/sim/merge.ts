/**
 * How the API server merges what a client sends into what it stores: strategic merge patches with
 * their directives (`$patch`, `$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…`),
 * which are interpreted and never stored; JSON merge patches; and the pod fields an update may
 * change (server-side apply and field ownership: managed-fields.ts).
 */
import type { Obj } from './store.js'
import { StatusError, invalid } from './status.js'

type Json = unknown
type Map = Record<string, Json>

const isMap = (v: Json): v is Map => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Lists merged item by item on a key (the `patchMergeKey` of the Kubernetes types); others are replaced. */
export function mergeKeyOf(path: string[], field: string): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'containerStatuses':
    case 'initContainerStatuses':
      return 'name'
    case 'volumeMounts':
      return 'mountPath'
    case 'volumeDevices':
      return 'devicePath'
    case 'hostAliases':
      return 'ip'
    case 'conditions':
      return 'type'
    case 'ownerReferences':
      return 'uid'
    case 'topologySpreadConstraints':
      return 'topologyKey'
    case 'ports':
      // A Service's ports merge on port, a container's on containerPort.
      return path.length === 1 && path[0] === 'spec' ? 'port' : 'containerPort'
    default:
      return undefined
  }
}

/** Lists of strings whose items are merged as a set. */
const PRIMITIVE_MERGE = new Set(['finalizers'])

/** A value with every directive key removed, at any depth: what is left to store. */
export function withoutDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !(isMap(x) && x.$patch !== undefined && Object.keys(x).length === 1)).map(withoutDirectives)
  if (!isMap(v)) return v
  const out: Map = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = withoutDirectives(x)
  return out
}

function badPatch(message: string): StatusError {
  return new StatusError(400, message, 'BadRequest')
}

/** A strategic merge patch applied to a stored value (k8s.io/apimachinery's strategicpatch, as far as the stored kinds need it). */
export function strategicMerge(target: Json, patch: Json, path: string[] = []): Json {
  if (!isMap(patch)) return withoutDirectives(patch)
  const directive = patch.$patch
  if (directive === 'replace') return withoutDirectives(patch)
  if (directive === 'delete') return undefined
  if (directive !== undefined && directive !== 'merge') throw badPatch(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`)
  const out: Map = isMap(target) ? { ...target } : {}
  const orders: Array<[string, Json[]]> = []
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue
    if (k.startsWith('$setElementOrder/')) {
      if (!Array.isArray(v)) throw badPatch(`invalid $setElementOrder for ${k.slice(17)}: must be a list`)
      orders.push([k.slice(17), v])
      continue
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice(25)
      const drop = Array.isArray(v) ? v : []
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((x) => !drop.includes(x))
      continue
    }
    if (k.startsWith('$')) throw badPatch(`unknown directive ${k} in strategic merge patch`)
    if (v === null) {
      delete out[k]
      continue
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, [...path, k], k)
      continue
    }
    const merged = isMap(v) ? strategicMerge(out[k], v, [...path, k]) : v
    if (merged === undefined) delete out[k]
    else out[k] = merged
  }
  for (const [field, order] of orders) if (Array.isArray(out[field])) out[field] = ordered(out[field] as Json[], order, mergeKeyOf(path, field))
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[])
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k]
  }
  return out
}

function mergeList(target: Json, patch: Json[], path: string[], field: string): Json[] {
  const current = Array.isArray(target) ? [...target] : []
  if (patch.some((x) => isMap(x) && x.$patch === 'replace')) return withoutDirectives(patch.filter((x) => !(isMap(x) && x.$patch === 'replace'))) as Json[]
  const key = mergeKeyOf(path.slice(0, -1), field)
  if (PRIMITIVE_MERGE.has(field)) return [...current, ...patch.filter((x) => !current.includes(x))]
  if (!key || !patch.every(isMap)) return withoutDirectives(patch) as Json[]
  for (const item of patch as Map[]) {
    const i = current.findIndex((x) => isMap(x) && x[key] === item[key])
    if (item.$patch === 'delete') {
      if (i >= 0) current.splice(i, 1)
      continue
    }
    if (i >= 0) current[i] = strategicMerge(current[i], item, path)
    else current.push(strategicMerge(undefined, item, path))
  }
  return current
}

/** `$setElementOrder`: the listed items first, in its order; items it does not list keep theirs, after them. */
function ordered(items: Json[], order: Json[], key: string | undefined): Json[] {
  const id = (x: Json): Json => (key && isMap(x) ? x[key] : x)
  const wanted = order.map(id)
  const pos = (x: Json): number => {
    const i = wanted.indexOf(id(x))
    return i < 0 ? wanted.length : i
  }
  return items.map((x, i) => ({ x, i })).sort((a, b) => pos(a.x) - pos(b.x) || a.i - b.i).map((e) => e.x)
}

/** A JSON merge patch (RFC 7386). */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return patch
  const out: Map = isMap(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

const MUTABLE_POD_FIELDS =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** Keys sorted, so two values compare equal however their keys were ordered. */
function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (!isMap(v)) return JSON.stringify(v) ?? 'null'
  return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
}

/**
 * A pod update may change only images, activeDeadlineSeconds, tolerations (additions),
 * terminationGracePeriodSeconds and scheduling gates (removals); anything else in the spec is 422.
 */
export function checkPodUpdate(oldPod: Obj, newPod: Obj): void {
  const oldSpec = (oldPod.spec ?? {}) as Map
  const newSpec = (newPod.spec ?? {}) as Map
  const masked = (spec: Map): Map => {
    const out: Map = { ...spec }
    for (const list of ['containers', 'initContainers']) {
      const cs = spec[list]
      if (Array.isArray(cs)) out[list] = cs.map((c) => (isMap(c) ? { ...c, image: undefined } : c))
    }
    for (const k of ['activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'tolerations', 'schedulingGates']) delete out[k]
    return out
  }
  const tolerationsKept = ((oldSpec.tolerations as Json[] | undefined) ?? []).every((t) => ((newSpec.tolerations as Json[] | undefined) ?? []).some((n) => canonical(n) === canonical(t)))
  const gatesOnlyRemoved = ((newSpec.schedulingGates as Json[] | undefined) ?? []).every((g) => ((oldSpec.schedulingGates as Json[] | undefined) ?? []).some((o) => canonical(o) === canonical(g)))
  if (canonical(masked(oldSpec)) === canonical(masked(newSpec)) && tolerationsKept && gatesOnlyRemoved) return
  throw invalid('Pod', String(newPod.metadata.name ?? ''), '', [{ field: 'spec', message: `Forbidden: ${MUTABLE_POD_FIELDS}`, reason: 'FieldValueForbidden' }])
}
