import { k8s } from './client.js'
import type { ObjectMeta } from '../checks/facts.js'
import { isLeakedRunnerSecret, stuckPods } from '../checks/cluster/leaked-resources.js'
import type { ClusterTarget } from './connect.js'
import { ApiError } from './errors.js'

export interface Leak {
  kind: 'Secret' | 'ConfigMap' | 'Service' | 'Pod'
  namespace: string
  name: string
  createdAt?: string
  why: string
}

/** A read cleanup could not make (a forbidden or failed list): what it could not see is not known to be clean. */
export interface CleanupGap {
  kind: Leak['kind']
  namespace: string
  verb: 'list'
  resource: string
  message: string
}

export interface CleanupResult {
  namespace: string
  leaks: Leak[]
  removed: Leak[]
  failed: Array<Leak & { error: string }>
  /** Kinds cleanup could not list (e.g. no `list secrets`): the rest of the cleanup went on without them. */
  unlisted: CleanupGap[]
}

/** What a refused or failed API call means for cleanup, worded by status (a 403 names the missing verb), never by message text. */
function refusal(err: ApiError, verb: string, resource: string, namespace: string): string {
  if (err.status === 403) return `cannot ${verb} ${resource} in namespace ${namespace}: missing verb ${verb} on ${resource}`
  return `cannot ${verb} ${resource} in namespace ${namespace}: ${err.message} (HTTP ${err.status})`
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
  const unlisted: CleanupGap[] = []
  for (const [kind, plural] of [['Secret', 'secrets'], ['ConfigMap', 'configmaps'], ['Service', 'services']] as const) {
    let list: { items: Array<{ metadata: ObjectMeta & { ownerReferences?: ObjectMeta['ownerReferences'] } }> }
    try {
      list = await target.getJson(`/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`, META_LIST)
    } catch (err) {
      // A refused list is a finding about this kind; the other kinds are still cleaned. Unreachable or
      // unauthenticated (a GkrError) ends the whole cleanup.
      if (!(err instanceof ApiError)) throw err
      unlisted.push({ kind, namespace, verb: 'list', resource: plural, message: refusal(err, 'list', plural, namespace) })
      continue
    }
    for (const item of list.items) {
      const meta: ObjectMeta = { name: item.metadata.name, labels: item.metadata.labels ?? {}, annotations: {}, ownerReferences: item.metadata.ownerReferences ?? [], ...(item.metadata.creationTimestamp ? { creationTimestamp: item.metadata.creationTimestamp } : {}) }
      if (isLeakedRunnerSecret(meta, now, opts.olderThanMs)) leaks.push({ kind, namespace, name: meta.name, ...(meta.creationTimestamp ? { createdAt: meta.creationTimestamp } : {}), why: 'named like a runner object, no owner' })
    }
  }
  // Runner pods stuck Terminating: deleted longer ago than olderThanMs, still there.
  const stuck = new Map<string, string[]>()
  try {
    const list = await target.getJson<{ items: Array<{ metadata: { name: string; labels?: Record<string, string>; creationTimestamp?: string; deletionTimestamp?: string; finalizers?: string[] } }> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, META_LIST)
    const pods = list.items.map((i) => ({ name: i.metadata.name, phase: '', labels: i.metadata.labels ?? {}, waiting: [], ...(i.metadata.creationTimestamp ? { creationTimestamp: i.metadata.creationTimestamp } : {}), ...(i.metadata.deletionTimestamp ? { deletionTimestamp: i.metadata.deletionTimestamp } : {}), finalizers: i.metadata.finalizers ?? [] }))
    for (const p of stuckPods(pods, now, opts.olderThanMs)) {
      const finalizers = p.finalizers ?? []
      stuck.set(p.name, finalizers)
      const why = `stuck Terminating, its grace period ended ${p.deletionTimestamp}; ${finalizers.length > 0 ? `kept by finalizer${finalizers.length === 1 ? '' : 's'} ${finalizers.join(', ')}` : 'its node never confirmed'}`
      leaks.push({ kind: 'Pod', namespace, name: p.name, ...(p.creationTimestamp ? { createdAt: p.creationTimestamp } : {}), why })
    }
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    unlisted.push({ kind: 'Pod', namespace, verb: 'list', resource: 'pods', message: refusal(err, 'list', 'pods', namespace) })
  }
  const removed: Leak[] = []
  const failed: Array<Leak & { error: string }> = []
  if (opts.remove) {
    const core = target.kc.makeApiClient(k8s().CoreV1Api)
    for (const l of leaks) {
      try {
        if (l.kind === 'Secret') await target.call('delete secret', () => core.deleteNamespacedSecret({ name: l.name, namespace }))
        else if (l.kind === 'ConfigMap') await target.call('delete configmap', () => core.deleteNamespacedConfigMap({ name: l.name, namespace }))
        else if (l.kind === 'Service') await target.call('delete service', () => core.deleteNamespacedService({ name: l.name, namespace }))
        // The pod's deletion was requested long ago: removing its finalizers lets it complete; without
        // finalizers, only a forced delete (grace 0) ends the wait for a node that never answers.
        else if ((stuck.get(l.name) ?? []).length > 0) await target.call('patch pod', () => core.patchNamespacedPod({ name: l.name, namespace, body: { metadata: { finalizers: null } } }, k8s().setHeaderOptions('Content-Type', k8s().PatchStrategy.MergePatch)))
        else await target.call('delete pod', () => core.deleteNamespacedPod({ name: l.name, namespace, gracePeriodSeconds: 0 }))
        removed.push(l)
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) removed.push(l)
        else if (err instanceof ApiError) failed.push({ ...l, error: refusal(err, l.kind === 'Pod' && (stuck.get(l.name) ?? []).length > 0 ? 'patch' : 'delete', `${l.kind.toLowerCase()}s`, namespace) })
        else throw err
      }
    }
  }
  return { namespace, leaks, removed, failed, unlisted }
}
