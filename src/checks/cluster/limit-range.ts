import type { V1Container, V1Pod } from '@kubernetes/client-node'
import { defineCheck, type FindingInput } from '../types.js'
import type { FactTypes } from '../facts.js'
import type { RenderedJob } from '../../executor/render.js'
import { footprintOf } from '../../executor/render.js'
import { parseQuantity } from '../../config/values.js'

type LimitRanges = FactTypes['limitRanges']
type Quantities = Record<string, string>
interface ContainerLimit { type?: string; default?: Quantities; defaultRequest?: Quantities; min?: Quantities; max?: Quantities; maxLimitRequestRatio?: Quantities }

const val = (q: string | undefined): number | undefined => (q === undefined ? undefined : parseQuantity(q)?.value)
const limitsOf = (lrs: LimitRanges, type: string): Array<{ range: string; limit: ContainerLimit }> =>
  lrs.flatMap((lr) => (lr.limits as ContainerLimit[]).filter((l) => (l.type ?? 'Container') === type).map((limit) => ({ range: lr.name, limit })))

/** The config.toml key prefix that sets a rendered container's resources. */
export function configPrefix(container: string): '' | 'helper_' | 'service_' {
  if (container === 'build' || container.startsWith('init-build')) return ''
  if (container === 'helper' || container === 'init-permissions') return 'helper_'
  return 'service_'
}

/**
 * The pod as the API server's LimitRanger leaves it: containers without a limit get the range's
 * `default`, without a request its `defaultRequest` (or, failing that, their limit).
 */
export function withLimitRangeDefaults(pod: V1Pod, lrs: LimitRanges): V1Pod {
  const ranges = limitsOf(lrs, 'Container')
  const fill = (c: V1Container): V1Container => {
    const requests: Quantities = { ...((c.resources?.requests ?? {}) as Quantities) }
    const limits: Quantities = { ...((c.resources?.limits ?? {}) as Quantities) }
    for (const { limit } of ranges) {
      for (const [r, q] of Object.entries(limit.default ?? {})) limits[r] ??= q
      for (const [r, q] of Object.entries(limit.defaultRequest ?? {})) requests[r] ??= q
    }
    for (const [r, q] of Object.entries(limits)) requests[r] ??= q
    return { ...c, resources: { ...c.resources, requests, limits } }
  }
  return { ...pod, spec: { ...pod.spec!, containers: (pod.spec?.containers ?? []).map(fill), ...(pod.spec?.initContainers ? { initContainers: pod.spec.initContainers.map(fill) } : {}) } }
}

export interface LimitRangeConflict {
  range: string
  container: string
  resource: string
  /** The API server's wording of the rejection. */
  message: string
  /** The config.toml key and the value that resolves it. */
  key: string
  value: string
}

/** Every way the defaulted pod breaks a LimitRange's min, max or maxLimitRequestRatio, per container. */
export function limitRangeConflicts(pod: V1Pod, lrs: LimitRanges): LimitRangeConflict[] {
  const out: LimitRangeConflict[] = []
  const defaulted = withLimitRangeDefaults(pod, lrs)
  const containers = [...(defaulted.spec?.initContainers ?? []), ...(defaulted.spec?.containers ?? [])]
  for (const { range, limit } of limitsOf(lrs, 'Container')) {
    for (const c of containers) {
      const req = (c.resources?.requests ?? {}) as Quantities
      const lim = (c.resources?.limits ?? {}) as Quantities
      const key = (kind: 'request' | 'limit', r: string): string => `${configPrefix(c.name)}${r === 'ephemeral-storage' ? 'ephemeral_storage' : r}_${kind}`
      const add = (resource: string, message: string, k: string, value: string): void => void out.push({ range, container: c.name, resource, message, key: k, value })
      for (const [r, min] of Object.entries(limit.min ?? {})) {
        const v = val(req[r])
        if (v === undefined) add(r, `minimum ${r} usage per Container is ${min}. No request is specified`, key('request', r), min)
        else if (v < val(min)!) add(r, `minimum ${r} usage per Container is ${min}, but request is ${req[r]}`, key('request', r), min)
      }
      for (const [r, max] of Object.entries(limit.max ?? {})) {
        const v = val(lim[r])
        if (v === undefined) add(r, `maximum ${r} usage per Container is ${max}. No limit is specified`, key('limit', r), max)
        else if (v > val(max)!) add(r, `maximum ${r} usage per Container is ${max}, but limit is ${lim[r]}`, key('limit', r), max)
      }
      for (const [r, ratio] of Object.entries(limit.maxLimitRequestRatio ?? {})) {
        const l = val(lim[r])
        const q = val(req[r])
        if (l === undefined || !q) continue
        if (l / q > val(ratio)! + 1e-9) add(r, `${r} max limit to request ratio per Container is ${ratio}, but provided ratio is ${(l / q).toFixed(6)}`, key('request', r), formatLike(r, l / val(ratio)!))
      }
      for (const [r, l] of Object.entries(lim)) {
        const q = val(req[r])
        if (q !== undefined && val(l) !== undefined && q > val(l)!) add(r, `${c.name}: requests.${r} ${req[r]} must be less than or equal to ${r} limit ${l} (the limit comes from LimitRange ${range}'s default)`, key('limit', r), req[r]!)
      }
    }
  }
  // One finding per container, resource and key: a default limit below the request shows once.
  const seen = new Set<string>()
  return out.filter((x) => {
    const id = `${x.container}/${x.resource}/${x.message}`
    return seen.has(id) ? false : (seen.add(id), true)
  })
}

function formatLike(resource: string, v: number): string {
  if (resource === 'cpu') return v < 1 ? `${Math.ceil(v * 1000)}m` : String(+v.toFixed(3))
  return v >= 2 ** 30 ? `${+(v / 2 ** 30).toFixed(2)}Gi` : `${Math.ceil(v / 2 ** 20)}Mi`
}

/** What one job takes after the LimitRange defaults (what ResourceQuota is charged). */
export function defaultedFootprint(r: RenderedJob, lrs: LimitRanges | undefined): RenderedJob['footprint'] {
  return lrs && lrs.length > 0 ? footprintOf(withLimitRangeDefaults(r.pod, lrs)) : r.footprint
}

export default defineCheck({
  id: 'cluster-limit-range',
  area: 'cluster',
  title: 'The job pod fits the namespace\'s LimitRanges after their defaults',
  description: 'Applies each LimitRange of the namespace to the rendered pod the way the API server does (a container without a limit gets the range\'s default, without a request its defaultRequest), then compares every container, init containers included, with the range\'s min, max and maxLimitRequestRatio. A conflict rejects every job pod at create ("maximum cpu usage per Container is …"); a default limit below the request the config sets does too.',
  severity: 'fail',
  needs: ['limitRanges'],
  catalog: ['limit-range-violation'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    if (!r) return { skipped: 'no rendered job' }
    const lrs = facts.limitRanges!.ok ? facts.limitRanges!.value : []
    return limitRangeConflicts(r.pod, lrs).map((x): FindingInput => ({
      message: `LimitRange ${x.range} rejects container ${x.container}: ${x.message}`,
      at: config.locate([...runner.path, 'kubernetes', x.key]),
      fix: { text: `Set ${x.key} so that container ${x.container} fits LimitRange ${x.range}, or change the LimitRange.`, toml: `[[runners]]\n  [runners.kubernetes]\n    ${x.key} = "${x.value}"` },
      details: { limitRange: x.range, container: x.container, resource: x.resource, key: x.key },
    }))
  },
})
