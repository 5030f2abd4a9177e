/**
 * The Kubernetes calls run-job makes for one rendered object (create, delete), by kind, and the reading
 * of an API rejection (HTTP status + Status.reason + Status.message, never the client's raw exception text).
 */
import type { CoreV1Api, CoreV1Event, KubeConfig, PolicyV1Api, V1ConfigMap, V1Pod, V1PodDisruptionBudget, V1Secret, V1Service } from '@kubernetes/client-node'
import { k8s } from '../kube/client.js'
import { ApiError } from '../kube/errors.js'
import { GkrError } from '../util/errors.js'
import { RUN_LABEL, type ObjectRef } from './ledger.js'

/**
 * How one API call is made: `ClusterTarget.call` (the runner's retry policy for 429, 503, etcd 500s and
 * dropped connections, a time limit, errors mapped to ApiError/GkrError). Without one, a call is made once.
 */
export type ApiCall = <T>(what: string, fn: () => Promise<T>) => Promise<T>

const once: ApiCall = (_what, fn) => fn()

/** An object as rendered for the job (secrets, config maps, services, the pod, a PDB). */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string; uid?: string; ownerReferences?: unknown[]; [k: string]: unknown }
  [k: string]: unknown
}

export interface ApiRejection {
  status: number
  reason?: string
  message: string
}

export function refOf(obj: KubeObject, namespace: string): ObjectRef {
  return {
    apiVersion: obj.apiVersion ?? (obj.kind === 'PodDisruptionBudget' ? 'policy/v1' : 'v1'),
    kind: obj.kind ?? 'Unknown',
    namespace: obj.metadata?.namespace ?? namespace,
    name: obj.metadata?.name ?? '',
  }
}

export class ObjectClient {
  private readonly core: CoreV1Api
  private readonly policy: PolicyV1Api
  constructor(kubeConfig: KubeConfig, private readonly call: ApiCall = once) {
    this.core = kubeConfig.makeApiClient(k8s().CoreV1Api)
    this.policy = kubeConfig.makeApiClient(k8s().PolicyV1Api)
  }

  /** Creates the object (or only submits it with dryRun=All); returns what the API answered. */
  create(obj: KubeObject, namespace: string, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
    return this.call(`create ${String(obj.kind).toLowerCase()}`, () => this.createOnce(obj, namespace, opts.dryRun ? 'All' : undefined))
  }

  private async createOnce(obj: KubeObject, namespace: string, dryRun: 'All' | undefined): Promise<KubeObject> {
    switch (obj.kind) {
      case 'Secret':
        return (await this.core.createNamespacedSecret({ namespace, body: obj as V1Secret, dryRun })) as KubeObject
      case 'ConfigMap':
        return (await this.core.createNamespacedConfigMap({ namespace, body: obj as V1ConfigMap, dryRun })) as KubeObject
      case 'Service':
        return (await this.core.createNamespacedService({ namespace, body: obj as V1Service, dryRun })) as KubeObject
      case 'Pod':
        return (await this.core.createNamespacedPod({ namespace, body: obj as V1Pod, dryRun })) as KubeObject
      case 'PodDisruptionBudget':
        return (await this.policy.createNamespacedPodDisruptionBudget({ namespace, body: obj as V1PodDisruptionBudget, dryRun })) as KubeObject
      default:
        throw new Error(`run-job cannot create a ${String(obj.kind)}`)
    }
  }

  /** Rewrites a created object (as the API returned it) with an ownerReference to the pod (`update`, as the runner does). */
  setOwner(obj: KubeObject, pod: KubeObject): Promise<KubeObject> {
    return this.call(`update ${String(obj.kind).toLowerCase()}`, () => this.setOwnerOnce(obj, pod))
  }

  private async setOwnerOnce(obj: KubeObject, pod: KubeObject): Promise<KubeObject> {
    const namespace = obj.metadata?.namespace ?? pod.metadata?.namespace ?? ''
    const name = obj.metadata?.name ?? ''
    const owner = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' }
    const body = { ...obj, metadata: { ...obj.metadata, ownerReferences: [...(obj.metadata?.ownerReferences ?? []), owner] } }
    switch (obj.kind) {
      case 'Secret':
        return (await this.core.replaceNamespacedSecret({ name, namespace, body: body as V1Secret })) as KubeObject
      case 'ConfigMap':
        return (await this.core.replaceNamespacedConfigMap({ name, namespace, body: body as V1ConfigMap })) as KubeObject
      case 'Service':
        return (await this.core.replaceNamespacedService({ name, namespace, body: body as V1Service })) as KubeObject
      case 'PodDisruptionBudget':
        return (await this.policy.replaceNamespacedPodDisruptionBudget({ name, namespace, body: body as V1PodDisruptionBudget })) as KubeObject
      default:
        throw new Error(`run-job cannot set an owner on a ${String(obj.kind)}`)
    }
  }

  readPod(namespace: string, name: string): Promise<V1Pod> {
    return this.call('get pod', () => this.core.readNamespacedPod({ name, namespace }))
  }

  /** Warning events about the pod, oldest first. */
  async podWarnings(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.call('list events', () => this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }))
    return list.items.filter((e) => e.type === 'Warning')
  }

  async podLog(namespace: string, name: string, container?: string): Promise<string> {
    return this.call('get pods/log', () => this.core.readNamespacedPodLog({ name, namespace, ...(container ? { container } : {}) }))
  }

  /**
   * Deletes the object, only if it still has `uid` when given (DeleteOptions.preconditions); 'not-found'
   * when it is already gone, 'conflict' when the name holds another object (the precondition failed).
   */
  async delete(ref: ObjectRef, uid?: string): Promise<'deleted' | 'not-found' | 'conflict'> {
    const p = { name: ref.name, namespace: ref.namespace, ...(uid ? { body: { preconditions: { uid } } } : {}) }
    try {
      await this.call(`delete ${ref.kind.toLowerCase()}`, async () => {
        switch (ref.kind) {
          case 'Secret': await this.core.deleteNamespacedSecret(p); break
          case 'ConfigMap': await this.core.deleteNamespacedConfigMap(p); break
          case 'Service': await this.core.deleteNamespacedService(p); break
          case 'Pod': await this.core.deleteNamespacedPod({ ...p, gracePeriodSeconds: 0 }); break
          case 'PodDisruptionBudget': await this.policy.deleteNamespacedPodDisruptionBudget(p); break
          default: throw new Error(`run-job cannot delete a ${ref.kind}`)
        }
      })
      return 'deleted'
    } catch (err) {
      const r = rejectionOf(err)
      if (r?.status === 404) return 'not-found'
      if (r?.status === 409 && uid) return 'conflict'
      throw new Error(r ? r.message : err instanceof Error ? err.message.split('\n')[0] : String(err))
    }
  }

  /** The object by that name as the API returns it, or undefined when there is none (404). */
  async read(ref: ObjectRef): Promise<KubeObject | undefined> {
    const p = { name: ref.name, namespace: ref.namespace }
    try {
      return await this.call(`get ${ref.kind.toLowerCase()}`, async (): Promise<KubeObject> => {
        switch (ref.kind) {
          case 'Secret': return (await this.core.readNamespacedSecret(p)) as KubeObject
          case 'ConfigMap': return (await this.core.readNamespacedConfigMap(p)) as KubeObject
          case 'Service': return (await this.core.readNamespacedService(p)) as KubeObject
          case 'Pod': return (await this.core.readNamespacedPod(p)) as KubeObject
          case 'PodDisruptionBudget': return (await this.policy.readNamespacedPodDisruptionBudget(p)) as KubeObject
          default: throw new Error(`run-job cannot read a ${ref.kind}`)
        }
      })
    } catch (err) {
      const r = rejectionOf(err)
      if (r?.status === 404) return undefined
      throw new Error(r ? r.message : err instanceof Error ? err.message.split('\n')[0] : String(err))
    }
  }

  /** The uid of the object by that name, or undefined when there is none (404). */
  async readUid(ref: ObjectRef): Promise<string | undefined> {
    const obj = await this.read(ref)
    return obj ? (obj.metadata?.uid ?? '') : undefined
  }

  /** The uid and the run identity (RUN_LABEL) of the object by that name, or undefined when there is none. */
  async readBack(ref: ObjectRef): Promise<{ uid: string; run?: string } | undefined> {
    const obj = await this.read(ref)
    if (!obj) return undefined
    const run = runOf(obj)
    return { uid: obj.metadata?.uid ?? '', ...(run !== undefined ? { run } : {}) }
  }
}

/** The run identity an object carries (RUN_LABEL), if any. */
export function runOf(obj: KubeObject): string | undefined {
  const labels = obj.metadata?.labels
  const v = labels && typeof labels === 'object' ? (labels as Record<string, unknown>)[RUN_LABEL] : undefined
  return typeof v === 'string' ? v : undefined
}

/** A copy of the object that carries the run identity (RUN_LABEL) among its labels. */
export function withRun(obj: KubeObject, runId: string): KubeObject {
  const labels = { ...((obj.metadata?.labels as Record<string, string> | undefined) ?? {}), [RUN_LABEL]: runId }
  return { ...obj, metadata: { ...obj.metadata, labels } }
}

/** Status code, reason and message of an API error response; undefined for non-API errors. */
export function rejectionOf(err: unknown): ApiRejection | undefined {
  if (err instanceof ApiError) return { status: err.status, ...(err.reason ? { reason: err.reason } : {}), message: err.message }
  // The retry path maps a 401 to an authentication error: the server answered and created nothing.
  if (err instanceof GkrError && err.code === 'kube-unauthorized') return { status: 401, reason: 'Unauthorized', message: err.message }
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { code?: unknown; body?: unknown }
  if (typeof e.code !== 'number') return undefined
  let body: unknown = e.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      body = { message: body }
    }
  }
  const status = (body ?? {}) as { reason?: unknown; message?: unknown }
  const message = typeof status.message === 'string' && status.message !== '' ? status.message : `HTTP ${e.code}`
  return { status: e.code, ...(typeof status.reason === 'string' ? { reason: status.reason } : {}), message }
}
