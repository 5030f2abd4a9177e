/**
 * The `scale` subresource of Deployments and ReplicaSets (what `kubectl scale` reads and patches): an
 * autoscaling/v1 Scale with the object's identity, its desired replicas and, in the status, how many
 * there are and the selector as a string.
 */
import type { Obj } from './store.js'
import { StatusError } from './status.js'

type Spec = { replicas?: unknown; selector?: { matchLabels?: Record<string, string> } }

export function scaleOf(obj: Obj): Obj {
  const spec = (obj.spec ?? {}) as Spec
  const status = (obj.status ?? {}) as { replicas?: unknown }
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata
  const selector = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, ...(selector ? { selector } : {}) },
  }
}

/** The object with the replicas a written Scale asks for; 422 for a count that is not a whole number ≥ 0. */
export function withScale(obj: Obj, scale: unknown): Obj {
  const replicas = ((scale as { spec?: { replicas?: unknown } } | null)?.spec?.replicas) ?? 0
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new StatusError(422, `Scale.autoscaling "${obj.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, 'Invalid', { name: obj.metadata.name, group: 'autoscaling', kind: 'Scale' })
  }
  return { ...obj, spec: { ...(obj.spec as object), replicas } }
}
