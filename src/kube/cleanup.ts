import { k8s } from './client.js'
import type { ObjectMeta } from '../checks/facts.js'
import { isLeakedRunnerSecret } from '../checks/cluster/leaked-resources.js'
import type { ClusterTarget } from './connect.js'
import { ApiError } from './errors.js'

export interface Leak {
  kind: 'Secret' | 'ConfigMap' | 'Service'
  namespace: string
  name: string
  createdAt?: string
  why: string
}

export interface CleanupResult {
  namespace: string
  leaks: Leak[]
  removed: Leak[]
  failed: Array<Leak & { error: string }>
}

const META_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'

/**
 * Finds what the runner provably left behind in a namespace: objects named like the runner's
 * (runner-<token>-project-<id>-concurrent-<n>-<suffix>) with no owner, older than `olderThanMs`.
 * Secret data is never read (metadata-only lists). With `remove`, deletes exactly those.
 */
export async function findAndRemoveLeaks(target: ClusterTarget, namespace: string, opts: { olderThanMs: number; remove: boolean; now?: Date }): Promise<CleanupResult> {
  const now = (opts.now ?? new Date()).toISOString()
  const leaks: Leak[] = []
  for (const [kind, plural] of [['Secret', 'secrets'], ['ConfigMap', 'configmaps'], ['Service', 'services']] as const) {
    const list = await target.getJson<{ items: Array<{ metadata: ObjectMeta & { ownerReferences?: ObjectMeta['ownerReferences'] } }> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`, META_LIST)
    for (const item of list.items) {
      const meta: ObjectMeta = { name: item.metadata.name, labels: item.metadata.labels ?? {}, annotations: {}, ownerReferences: item.metadata.ownerReferences ?? [], ...(item.metadata.creationTimestamp ? { creationTimestamp: item.metadata.creationTimestamp } : {}) }
      if (isLeakedRunnerSecret(meta, now, opts.olderThanMs)) leaks.push({ kind, namespace, name: meta.name, ...(meta.creationTimestamp ? { createdAt: meta.creationTimestamp } : {}), why: 'named like a runner object, no owner' })
    }
  }
  const removed: Leak[] = []
  const failed: Array<Leak & { error: string }> = []
  if (opts.remove) {
    const core = target.kc.makeApiClient(k8s().CoreV1Api)
    for (const l of leaks) {
      try {
        if (l.kind === 'Secret') await target.call('delete secret', () => core.deleteNamespacedSecret({ name: l.name, namespace }))
        else if (l.kind === 'ConfigMap') await target.call('delete configmap', () => core.deleteNamespacedConfigMap({ name: l.name, namespace }))
        else await target.call('delete service', () => core.deleteNamespacedService({ name: l.name, namespace }))
        removed.push(l)
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) removed.push(l)
        else if (err instanceof ApiError) failed.push({ ...l, error: err.message })
        else throw err
      }
    }
  }
  return { namespace, leaks, removed, failed }
}
