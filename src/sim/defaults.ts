/**
 * Defaulting, as the API server applies it to what it stores before validation: the fields clients
 * read back without having sent them. Only those of the kinds the runner creates that clients show.
 */
import type { ResourceDef } from './resources.js'
import type { Obj } from './store.js'
import { q } from './quantity.js'

export function applyDefaults(def: ResourceDef, obj: Obj): void {
  if (def.group !== '') return
  // A Secret without a type is Opaque.
  if (def.resource === 'secrets' && (obj.type === undefined || obj.type === '')) obj.type = 'Opaque'
  // A Service without a type is ClusterIP; a port's protocol TCP and its targetPort the port.
  if (def.resource === 'services' && obj.spec && typeof obj.spec === 'object' && !Array.isArray(obj.spec)) {
    const spec = obj.spec as { type?: unknown; ports?: unknown }
    if (spec.type === undefined) spec.type = 'ClusterIP'
    if (Array.isArray(spec.ports)) {
      for (const p of spec.ports as Array<Record<string, unknown>>) {
        if (!p || typeof p !== 'object') continue
        p.protocol ??= 'TCP'
        if (p.targetPort === undefined && p.port !== undefined) p.targetPort = p.port
      }
    }
  }
}

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> }

/**
 * A pod's QoS class from its containers' cpu and memory: BestEffort without any request or limit,
 * Guaranteed when every container limits both and requests (if given) equal the limits, Burstable
 * otherwise. Init containers count as containers.
 */
export function qosClass(spec: unknown): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const s = (spec && typeof spec === 'object' ? spec : {}) as { containers?: unknown; initContainers?: unknown }
  const containers = [s.containers, s.initContainers].flatMap((l) => (Array.isArray(l) ? l : [])).map((c) => ((c && typeof c === 'object' ? (c as { resources?: Resources }).resources : undefined) ?? {}))
  const kinds = ['cpu', 'memory']
  const set = (v: unknown): boolean => v !== undefined && v !== null && q(v) !== 0
  if (!containers.some((r) => kinds.some((k) => set(r.requests?.[k]) || set(r.limits?.[k])))) return 'BestEffort'
  const guaranteed = containers.every((r) => kinds.every((k) => set(r.limits?.[k]) && (r.requests?.[k] === undefined || q(r.requests[k]) === q(r.limits![k]))))
  return guaranteed ? 'Guaranteed' : 'Burstable'
}
