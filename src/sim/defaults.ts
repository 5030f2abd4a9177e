/**
 * Defaulting, as the API server applies it to what it stores before validation: the fields clients
 * read back without having sent them. Only those of the kinds the runner creates that clients show.
 */
import type { ResourceDef } from './resources.js'
import type { Obj } from './store.js'

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
