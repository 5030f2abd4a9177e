/**
 * Gather once: everything the cluster checks need, in one wave — discovery (/version), every read and
 * access review, and the server-side dry-run of the rendered objects start together, bounded per
 * cluster by MAX_IN_FLIGHT. A read that needs another's answer first (webhook endpoints, Gatekeeper
 * constraints, namespaces a job may pick) starts as soon as that answer is in. The depth reported is
 * measured from the requests' times (criticalPathDepth). Secret data is never read (metadata-only lists).
 * A read that fails is recorded as such (a 403 names the verb) and never aborts the others; only a
 * cluster that cannot be reached at all throws (GkrError, exit 3).
 */
import type { CoreV1Event, V1LimitRange, V1MutatingWebhookConfiguration, V1Node, V1Pod, V1ResourceQuota, V1Secret, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node'
import { k8s } from './client.js'
import type { LoadedRunner } from '../config/types.js'
import type { AccessFact, EventFact, QuotaFact, Facts, FactResult, ManagerPodFact, NodeFact, ObjectMeta, PodFact, ReadOnlyPolicyFact, WebhookFact } from '../checks/facts.js'
import type { Permission } from '../executor/permissions.js'
import type { RenderedJob } from '../executor/render.js'
import { ApiError } from './errors.js'
import { reviewAccess, mapLimit } from './access.js'
import { criticalPathDepth, MAX_IN_FLIGHT, type ClusterTarget } from './connect.js'

export interface GatherInput {
  runner: LoadedRunner
  rendered: RenderedJob
  permissions: Permission[]
  /** Impersonated identity for access reviews (SubjectAccessReview). */
  as?: string
  /** Groups the access reviews add to `as` (--as-group). */
  asGroups?: readonly string[]
}

export interface GatherStats {
  requests: number
  /** Measured: the longest chain of requests that waited for one another (criticalPathDepth). */
  roundTrips: number
  /** New connections opened (keep-alive reuse does not count). */
  connections: number
  durationMs: number
  errors: number
  retries: number
}

/** The kinds of object a job creates that admission webhooks may intercept. */
const RUNNER_KINDS = ['pods', 'secrets', 'configmaps', 'services']

const META_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'

/** Items per page of every list: memory stays bounded by a page, whatever the namespace holds. */
export const PAGE_SIZE = 500
/**
 * Items per page of a metadata-only list: a name, labels, annotations and owner (well under 1 KiB), so
 * ten times PAGE_SIZE still holds only a few MB while 50,000 secrets take 10 sequential pages, not 100.
 */
export const META_PAGE_SIZE = 5000

/**
 * Every item of a list, page by page (`limit`/`continue`), each page mapped to the small fact the
 * checks need as it arrives, so no more than one page of raw objects is ever held. A continue token
 * that expired (410) restarts the list once, as kubectl does.
 */
async function listPaged<I, R>(target: ClusterTarget, path: string, accept: string, map: (item: I) => R | undefined): Promise<R[]> {
  const limit = pageSizes.get(target) ?? (accept === META_LIST ? META_PAGE_SIZE : PAGE_SIZE)
  for (let attemptNo = 0; ; attemptNo++) {
    const out: R[] = []
    let cont: string | undefined
    try {
      do {
        const sep = path.includes('?') ? '&' : '?'
        const page = await target.getJson<{ items?: I[] | null; metadata?: { continue?: string } }>(`${path}${sep}limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, accept)
        for (const item of page.items ?? []) {
          const r = map(item)
          if (r !== undefined) out.push(r)
        }
        cont = page.metadata?.continue || undefined
      } while (cont)
      return out
    } catch (err) {
      if (attemptNo === 0 && cont && err instanceof ApiError && err.status === 410) continue
      throw err
    }
  }
}

/** A smaller page for one target (tests of paging use it; doctor always uses PAGE_SIZE / META_PAGE_SIZE). */
const pageSizes = new WeakMap<ClusterTarget, number>()

type MetaItem = { metadata: Parameters<typeof metaOf>[0] }
const metaList = (target: ClusterTarget, path: string): Promise<ObjectMeta[]> => listPaged<MetaItem, ObjectMeta>(target, path, META_LIST, (i) => metaOf(i.metadata))

/** The most recent events kept for the checks (by last timestamp): enough for any diagnosis, bounded. */
const MAX_EVENTS = 1000

type Read<T> = { verb: string; resource: string; namespace?: string; run: () => Promise<T> }

async function attempt<T>(r: Read<T>): Promise<FactResult<T>> {
  try {
    return { ok: true, value: await r.run() }
  } catch (err) {
    if (err instanceof ApiError) {
      if (err.status === 403) return { ok: false, reason: err.message, forbidden: { verb: r.verb, resource: r.resource, ...(r.namespace ? { namespace: r.namespace } : {}) } }
      return { ok: false, reason: err.message }
    }
    throw err
  }
}

const metaOf = (m: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string }>; creationTimestamp?: string | Date } | undefined): ObjectMeta => ({
  name: m?.name ?? '',
  ...(m?.namespace ? { namespace: m.namespace } : {}),
  labels: m?.labels ?? {},
  annotations: m?.annotations ?? {},
  ownerReferences: (m?.ownerReferences ?? []).map((o) => ({ kind: o.kind, name: o.name, uid: o.uid })),
  ...(m?.creationTimestamp ? { creationTimestamp: new Date(m.creationTimestamp).toISOString() } : {}),
})

function labelsMatch(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true
  if (Object.entries(sel.matchLabels ?? {}).some(([k, v]) => labels[k] !== v)) return false
  return (sel.matchExpressions ?? []).every((e) => {
    const has = e.key in labels
    if (e.operator === 'In') return has && (e.values ?? []).includes(labels[e.key]!)
    if (e.operator === 'NotIn') return !has || !(e.values ?? []).includes(labels[e.key]!)
    if (e.operator === 'Exists') return has
    return !has
  })
}

type Json = Record<string, unknown>
const asObj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const globMatch = (pattern: string, name: string): boolean => new RegExp(`^${pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name)

/** Lists a policy engine's objects; a 404 means the engine (its CRD) is not installed: none. */
async function listIfInstalled(target: ClusterTarget, path: string): Promise<Json[]> {
  try {
    return await listPaged<unknown, Json>(target, path, 'application/json', asObj)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return []
    throw err
  }
}

/**
 * Kyverno (Cluster)Policies and Gatekeeper constraints that require readOnlyRootFilesystem on pods.
 * A Gatekeeper template whose constraints cannot be listed is reported with `unknownConstraints`.
 */
async function readOnlyPolicies(target: ClusterTarget, ns: string): Promise<ReadOnlyPolicyFact[]> {
  const out: ReadOnlyPolicyFact[] = []
  const [cluster, namespaced, templates] = await Promise.all([
    listIfInstalled(target, '/apis/kyverno.io/v1/clusterpolicies'),
    listIfInstalled(target, `/apis/kyverno.io/v1/namespaces/${encodeURIComponent(ns)}/policies`),
    listIfInstalled(target, '/apis/templates.gatekeeper.sh/v1/constrainttemplates'),
  ])
  for (const [policy, isNamespaced] of [...cluster.map((p) => [p, false] as const), ...namespaced.map((p) => [p, true] as const)]) {
    const spec = asObj(policy.spec)
    for (const rule of asArr(spec.rules).map(asObj)) {
      if (!JSON.stringify(rule.validate ?? {}).includes('readOnlyRootFilesystem')) continue
      const action = String(asObj(rule.validate).failureAction ?? spec.validationFailureAction ?? 'Audit').toLowerCase()
      const blocks = (key: 'match' | 'exclude'): Array<Json> => { const m = asObj(rule[key]); return [...asArr(m.any), ...asArr(m.all), ...(m.resources ? [m] : [])].map((b) => asObj(asObj(b).resources)) }
      const listed = (b: Json): boolean => asArr(b.namespaces).length === 0 || asArr(b.namespaces).some((n) => globMatch(String(n), ns))
      const matched = blocks('match')
      const applies = isNamespaced || ((matched.length === 0 || matched.some(listed)) && !blocks('exclude').some((b) => asArr(b.namespaces).some((n) => globMatch(String(n), ns))))
      out.push({ engine: 'kyverno', name: String(asObj(policy.metadata).name ?? ''), enforced: action === 'enforce', appliesToNamespace: applies })
      break
    }
  }
  for (const t of templates) {
    const kind = String(asObj(asObj(asObj(asObj(t.spec).crd).spec).names).kind ?? '')
    if (!kind || !(/readonlyrootfilesystem/i.test(kind) || JSON.stringify(asObj(t.spec).targets ?? []).includes('readOnlyRootFilesystem'))) continue
    let constraints: Json[]
    try {
      constraints = await listPaged<unknown, Json>(target, `/apis/constraints.gatekeeper.sh/v1beta1/${kind.toLowerCase()}`, 'application/json', asObj)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      out.push({ engine: 'gatekeeper', name: String(asObj(t.metadata).name ?? kind), enforced: true, unknownConstraints: true, appliesToNamespace: true })
      continue
    }
    for (const c of constraints) {
      const spec = asObj(c.spec)
      const match = asObj(spec.match)
      const nss = asArr(match.namespaces).map(String)
      const applies = (nss.length === 0 || nss.some((n) => globMatch(n, ns))) && !asArr(match.excludedNamespaces).map(String).some((n) => globMatch(n, ns))
      out.push({ engine: 'gatekeeper', name: String(asObj(c.metadata).name ?? ''), enforced: String(spec.enforcementAction ?? 'deny') === 'deny', appliesToNamespace: applies })
    }
  }
  return out
}

/** The kubernetes.io/os values every required node affinity term pins the pod to (undefined when some term leaves it open). */
function affinityOs(pod: V1Pod): string[] | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
  if (terms.length === 0) return undefined
  const per = terms.map((t) => (t.matchExpressions ?? []).find((e) => e.key === 'kubernetes.io/os' && e.operator === 'In')?.values)
  if (per.some((v) => !v)) return undefined
  return [...new Set(per.flatMap((v) => v!))].sort()
}

/**
 * Doctor's own pod and its node, when doctor runs in-cluster: the pod by name (HOSTNAME) in the
 * service account's namespace, then the node it runs on (a read that needs the first: chained).
 * Not in-cluster: null. A pod that is not found means HOSTNAME is not the pod name (spec.hostname).
 */
async function managerPod(target: ClusterTarget): Promise<FactResult<ManagerPodFact | null>> {
  const self = target.info.source === 'in-cluster' ? target.info.self : undefined
  if (!self) return { ok: true, value: null }
  if (!self.name || !self.namespace) return { ok: false, reason: `doctor runs in-cluster but cannot tell which pod it runs in: ${self.missing ?? 'unknown'}` }
  const { name, namespace } = self as Required<Pick<typeof self, 'name' | 'namespace'>>
  const core = target.kc.makeApiClient(k8s().CoreV1Api)
  return attempt({ verb: 'get', resource: 'pods', namespace, run: async (): Promise<ManagerPodFact> => {
    let pod: V1Pod
    try {
      pod = await target.call('get own pod', () => core.readNamespacedPod({ name, namespace }))
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new ApiError(404, `no pod ${namespace}/${name}: doctor takes HOSTNAME as its pod's name, which does not hold when the pod sets spec.hostname or uses the host's network`, 'NotFound')
      throw err
    }
    const nodeName = pod.spec?.nodeName ?? ''
    let node: ManagerPodFact['node'] = { ok: false, reason: `pod ${namespace}/${name} is not scheduled on a node yet` }
    if (nodeName) {
      node = await attempt({ verb: 'get', resource: 'nodes', run: async () => {
        const n = await target.call('get node', () => core.readNode({ name: nodeName }))
        return { name: nodeName, labels: n.metadata?.labels ?? {} }
      } })
    }
    const os = affinityOs(pod)
    const images = (pod.spec?.containers ?? []).map((c) => c.image ?? '').filter(Boolean)
    return { name, namespace, nodeName, nodeSelector: pod.spec?.nodeSelector ?? {}, ...(os ? { affinityOs: os } : {}), images, node }
  } })
}

export async function gatherFacts(target: ClusterTarget, input: GatherInput, opts: { signal?: AbortSignal; concurrency?: number; pageSize?: number } = {}): Promise<{ facts: Facts; stats: GatherStats }> {
  const t0 = performance.now()
  if (opts.pageSize) pageSizes.set(target, opts.pageSize)
  // One target may serve several gatherings (one per runner): each reports only its own requests.
  const base = { internalErrors: target.stats.internalErrors ?? 0, internalMessages: (target.stats.internalMessages ?? []).length, requests: target.stats.requests, errors: target.stats.errors, serverErrors: target.stats.serverErrors, retries: target.stats.retries, connections: target.stats.connections, spans: target.stats.spans.length, latencies: target.stats.latenciesMs.length }
  const core = target.kc.makeApiClient(k8s().CoreV1Api)
  const ns = input.rendered.namespace
  const facts: Facts = { now: { ok: true, value: { time: new Date().toISOString() } } }

  // Discovery (/version) tells whether the API server can be reached at all; it runs in the same
  // wave as every read, access review and dry-run instead of before them (a dead server fails them all
  // the same way, and the version's error is the one reported).
  const pod = input.rendered.pod
  const sa = input.rendered.pod.spec?.serviceAccountName
  const runtimeClass = pod.spec?.runtimeClassName
  const priorityClass = pod.spec?.priorityClassName
  const perJob = Boolean(input.rendered.createsNamespace)
  // Reads that depend on another read of the fan-out (webhook endpoints, Gatekeeper constraints, the
  // namespaces namespace_overwrite_allowed admits) start as soon as what they need has arrived.
  /** Existing namespaces (besides the runner's own) that namespace_overwrite_allowed lets a job pick; at most 5. */
  const overwriteNamespaces = async (): Promise<string[]> => {
    const pattern = input.runner.settings.kubernetes && typeof (input.runner.settings.kubernetes as Record<string, unknown>).namespace_overwrite_allowed === 'string' ? String((input.runner.settings.kubernetes as Record<string, unknown>).namespace_overwrite_allowed) : ''
    if (!pattern) return []
    let re: RegExp
    try {
      re = new RegExp(pattern)
    } catch {
      return []
    }
    try {
      const names = await listPaged<{ metadata?: { name?: string } }, string>(target, '/api/v1/namespaces', META_LIST, (i) => i.metadata?.name || undefined)
      return names.filter((n) => n !== ns && re.test(n)).sort().slice(0, 5)
    } catch (err) {
      if (err instanceof ApiError) return []
      throw err
    }
  }
  // The namespace's labels decide which webhooks select it: the webhook task waits for this read.
  let namespaceRead: Promise<void> | undefined
  const readNamespace = (): Promise<void> => (namespaceRead ??= (async () => {
      facts.namespace = await attempt({ verb: 'get', resource: 'namespaces', run: async () => {
        if (perJob) return { name: ns, exists: false, labels: {}, createdPerJob: true }
        try {
          const n = await target.call('get namespace', () => core.readNamespace({ name: ns }))
          return { name: ns, exists: true, labels: n.metadata?.labels ?? {}, annotations: n.metadata?.annotations ?? {} }
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) return { name: ns, exists: false, labels: {} }
          throw err
        }
      } })
    })())
  const tasks: Array<() => Promise<void>> = [
    readNamespace,
    async () => {
      // OpenShift admits pods through SecurityContextConstraints; discovery of its API group tells.
      facts.openshiftScc = await attempt({ verb: 'get', resource: 'apis/security.openshift.io/v1', run: async () => {
        try {
          await target.getJson('/apis/security.openshift.io/v1')
          return true
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) return false
          throw err
        }
      } })
    },
    async () => {
      facts.access = await attempt({ verb: 'create', resource: 'selfsubjectaccessreviews', run: async () => {
        const perms = input.permissions.filter((p) => !p.grantedByDefault)
        // Every namespace the runner will use: its own (or, with namespace_per_job, namespaces that do
        // not exist yet: only a cluster-wide grant covers those, so namespaced verbs are asked
        // without a namespace), plus existing namespaces a job may pick with namespace_overwrite_allowed.
        const namespaces: Array<string | undefined> = [perJob ? undefined : ns, ...(await overwriteNamespaces())]
        const checks = namespaces.flatMap((n) => perms.filter((p) => n === namespaces[0] || !p.clusterScoped).map((p) => ({ p, n })))
        const reviews = checks.map(({ p, n }) => {
          const [resource, subresource] = p.resource.split('/')
          return { verb: p.verb, group: p.apiGroup, resource: resource!, ...(subresource ? { subresource } : {}), ...(p.clusterScoped || n === undefined ? {} : { namespace: n }) }
        })
        // Over-broad grants: every verb on every resource, in the namespace and cluster-wide.
        const broad = [...(perJob ? [] : [{ verb: '*', group: '*', resource: '*', namespace: ns }]), { verb: '*', group: '*', resource: '*' }]
        const results = await reviewAccess(target, [...reviews, ...broad], { ...(input.as ? { as: input.as } : {}), ...(input.asGroups?.length ? { asGroups: input.asGroups } : {}), concurrency: opts.concurrency ?? MAX_IN_FLIGHT })
        return results.map((r, i): AccessFact => {
          const c = checks[i]
          if (!c) return { ...r, why: 'every verb on every resource', optional: true, clusterScoped: r.namespace === undefined, probe: 'broad' }
          return { ...r, why: `${c.p.reason}${c.p.when === 'always' ? '' : ` (when ${c.p.when})`}`, optional: Boolean(c.p.optional), clusterScoped: Boolean(c.p.clusterScoped) || c.n === undefined }
        })
      } })
    },
    async () => {
      if (!sa) return void (facts.serviceAccount = { ok: true, value: null })
      facts.serviceAccount = await attempt({ verb: 'get', resource: 'serviceaccounts', namespace: ns, run: async () => {
        try {
          await target.call('get service account', () => core.readNamespacedServiceAccount({ name: sa, namespace: ns }))
          return { name: sa, exists: true }
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) return { name: sa, exists: false }
          throw err
        }
      } })
    },
    async () => {
      facts.secrets = await attempt({ verb: 'list', resource: 'secrets', namespace: ns, run: async () => {
        return metaList(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`)
      } })
    },
    async () => {
      facts.configMaps = await attempt({ verb: 'list', resource: 'configmaps', namespace: ns, run: async () => {
        return metaList(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`)
      } })
    },
    async () => {
      facts.pvcs = await attempt({ verb: 'list', resource: 'persistentvolumeclaims', namespace: ns, run: async () => {
        return metaList(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims`)
      } })
    },
    async () => {
      const wanted = [...new Set((pod.spec?.volumes ?? []).filter((v) => v.configMap?.items?.length).map((v) => v.configMap!.name!))]
      if (wanted.length === 0) return
      facts.configMapKeys = await attempt({ verb: 'get', resource: 'configmaps', namespace: ns, run: async () => {
        const out: Record<string, string[]> = {}
        await mapLimit(wanted, opts.concurrency ?? MAX_IN_FLIGHT, async (name) => {
          try {
            const cm = await target.call('get config map', () => core.readNamespacedConfigMap({ name, namespace: ns }))
            out[name] = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})].sort()
          } catch (err) {
            // A missing config map is reported from the metadata list; its keys are simply unknown.
            if (!(err instanceof ApiError) || err.status !== 404) throw err
          }
        })
        return out
      } })
    },
    async () => {
      if (!(pod.spec?.volumes ?? []).some((v) => v.csi)) return
      facts.csiDrivers = await attempt({ verb: 'list', resource: 'csidrivers.storage.k8s.io', run: async () => {
        return (await metaList(target, '/apis/storage.k8s.io/v1/csidrivers')).map((m) => m.name).filter(Boolean)
      } })
    },
    async () => {
      facts.services = await attempt({ verb: 'list', resource: 'services', namespace: ns, run: async () => {
        return metaList(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/services`)
      } })
    },
    async () => {
      // Only for namespace_per_job: its namespaces are named ci-job-<id>; a leftover one holds a whole job.
      if (!perJob) return
      facts.jobNamespaces = await attempt({ verb: 'list', resource: 'namespaces', run: async () => {
        return (await metaList(target, '/api/v1/namespaces')).filter((m) => /^ci-job-\d+$/.test(m.name))
      } })
    },
    async () => {
      facts.classes = await attempt({ verb: 'get', resource: 'runtimeclasses', run: async () => {
        const exists = async (fn: () => Promise<unknown>): Promise<boolean> => {
          try {
            await fn()
            return true
          } catch (err) {
            if (err instanceof ApiError && err.status === 404) return false
            throw err
          }
        }
        return {
          ...(runtimeClass ? { runtimeClass: { name: runtimeClass, exists: await exists(() => target.call('get runtime class', () => target.kc.makeApiClient(k8s().NodeV1Api).readRuntimeClass({ name: runtimeClass }))) } } : {}),
          ...(priorityClass ? { priorityClass: { name: priorityClass, exists: await exists(() => target.call('get priority class', () => target.kc.makeApiClient(k8s().SchedulingV1Api).readPriorityClass({ name: priorityClass }))) } } : {}),
        }
      } })
    },
    async () => {
      facts.quotas = await attempt({ verb: 'list', resource: 'resourcequotas', namespace: ns, run: async () => {
        return listPaged<V1ResourceQuota, QuotaFact>(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/resourcequotas`, 'application/json', (q) => ({ name: q.metadata?.name ?? '', hard: (q.spec?.hard ?? {}) as Record<string, string>, used: (q.status?.used ?? {}) as Record<string, string> }))
      } })
    },
    async () => {
      facts.limitRanges = await attempt({ verb: 'list', resource: 'limitranges', namespace: ns, run: async () => {
        return listPaged<V1LimitRange, { name: string; limits: Array<Record<string, unknown>> }>(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/limitranges`, 'application/json', (l) => ({ name: l.metadata?.name ?? '', limits: (l.spec?.limits ?? []) as unknown as Array<Record<string, unknown>> }))
      } })
    },
    async () => {
      facts.nodes = await attempt({ verb: 'list', resource: 'nodes', run: async () => {
        return listPaged<V1Node, NodeFact>(target, '/api/v1/nodes', 'application/json', (n) => ({
          name: n.metadata?.name ?? '',
          labels: n.metadata?.labels ?? {},
          taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
          unschedulable: Boolean(n.spec?.unschedulable),
          ready: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          allocatable: (n.status?.allocatable ?? {}) as Record<string, string>,
        }))
      } })
    },
    async () => {
      facts.pods = await attempt({ verb: 'list', resource: 'pods', namespace: ns, run: async () => {
        return listPaged<V1Pod, PodFact>(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, 'application/json', (p) => ({
          name: p.metadata?.name ?? '',
          phase: p.status?.phase ?? 'Unknown',
          labels: p.metadata?.labels ?? {},
          ...(p.metadata?.creationTimestamp ? { creationTimestamp: new Date(p.metadata.creationTimestamp).toISOString() } : {}),
          waiting: (p.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).filter((r): r is string => Boolean(r)),
          ...(p.metadata?.deletionTimestamp ? { deletionTimestamp: new Date(p.metadata.deletionTimestamp).toISOString() } : {}),
          ...(p.metadata?.finalizers?.length ? { finalizers: p.metadata.finalizers } : {}),
        }))
      } })
    },
    async () => {
      facts.events = await attempt({ verb: 'list', resource: 'events', namespace: ns, run: async () => {
        const events = await listPaged<CoreV1Event, EventFact>(target, `/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=${encodeURIComponent('type=Warning')}`, 'application/json', (e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '', involvedObject: e.involvedObject?.name ?? '', ...(e.lastTimestamp ? { lastTimestamp: new Date(e.lastTimestamp).toISOString() } : {}) }))
        // Only the most recent ones matter to the checks; keep a bounded number.
        return events.length <= MAX_EVENTS ? events : events.sort((a, b) => (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? '')).slice(0, MAX_EVENTS)
      } })
    },
    async () => {
      facts.webhooks = await attempt({ verb: 'list', resource: 'validatingwebhookconfigurations', run: async () => {
        const [vItems, mItems] = await Promise.all([
          listPaged<V1ValidatingWebhookConfiguration, V1ValidatingWebhookConfiguration>(target, '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', 'application/json', (c) => c),
          listPaged<V1MutatingWebhookConfiguration, V1MutatingWebhookConfiguration>(target, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', 'application/json', (c) => c),
        ])
        await readNamespace()
        const nsLabels = facts.namespace?.ok ? facts.namespace.value.labels : { 'kubernetes.io/metadata.name': ns }
        const out: WebhookFact[] = []
        for (const [kind, list] of [['validating', vItems], ['mutating', mItems]] as const) {
          for (const cfg of list) {
            for (const wh of (cfg.webhooks ?? []) as Array<{ name: string; failurePolicy?: string; sideEffects?: string; timeoutSeconds?: number; rules?: Array<{ operations?: string[]; apiGroups?: string[]; resources?: string[] }>; namespaceSelector?: never; objectSelector?: never; clientConfig?: { service?: { namespace: string; name: string } } }>) {
              const catchesKind = (res: string): boolean => (wh.rules ?? []).some((r) => (r.operations ?? []).some((o) => o === '*' || o === 'CREATE') && (r.apiGroups ?? []).some((g) => g === '*' || g === '') && (r.resources ?? []).some((x) => x === '*' || x === res))
              const nsMatch = labelsMatch(wh.namespaceSelector, { 'kubernetes.io/metadata.name': ns, ...nsLabels })
              const catches = catchesKind('pods')
              // The objectSelector is matched against each object's own labels; only the pod's are known here.
              const intercepts = nsMatch ? RUNNER_KINDS.filter((k) => catchesKind(k) && (k !== 'pods' || labelsMatch(wh.objectSelector, pod.metadata?.labels ?? {}))) : []
              out.push({
                configuration: cfg.metadata?.name ?? '',
                name: wh.name,
                kind,
                failurePolicy: wh.failurePolicy ?? 'Fail',
                sideEffects: wh.sideEffects ?? 'Unknown',
                timeoutSeconds: wh.timeoutSeconds ?? 10,
                interceptsPods: catches && nsMatch && labelsMatch(wh.objectSelector, pod.metadata?.labels ?? {}),
                intercepts,
                ...(wh.clientConfig?.service ? { service: { namespace: wh.clientConfig.service.namespace, name: wh.clientConfig.service.name } } : {}),
              })
            }
          }
        }
        // Each backing service of a webhook that catches the runner's objects: does it have ready endpoints?
        const services = [...new Map(out.filter((w) => w.service && (w.intercepts ?? []).length > 0).map((w) => [`${w.service!.namespace}/${w.service!.name}`, w.service!])).values()]
        const ready = new Map<string, number>()
        await mapLimit(services, opts.concurrency ?? MAX_IN_FLIGHT, async (svc) => {
          try {
            const ep = await target.call('get endpoints', () => core.readNamespacedEndpoints({ name: svc.name, namespace: svc.namespace }))
            ready.set(`${svc.namespace}/${svc.name}`, (ep.subsets ?? []).reduce((n, sub) => n + (sub.addresses ?? []).length, 0))
          } catch (err) {
            if (!(err instanceof ApiError)) throw err
            if (err.status === 404) ready.set(`${svc.namespace}/${svc.name}`, 0)
            // Forbidden or other errors: unknown, the check says nothing about readiness.
          }
        })
        for (const w of out) {
          const n = w.service ? ready.get(`${w.service.namespace}/${w.service.name}`) : undefined
          if (n !== undefined) w.readyEndpoints = n
        }
        return out
      } })
    },
    async () => {
      facts.managerPod = await managerPod(target)
    },
    async () => {
      facts.readOnlyPolicies = await attempt({ verb: 'list', resource: 'clusterpolicies.kyverno.io', run: () => readOnlyPolicies(target, ns) })
    },
  ]
  // Submit what the runner creates with dryRun=All (nothing persists, so the secret need not wait for
  // the pod's answer or the other way round); results keep the runner's order of objects.
  tasks.push(async () => {
    if (perJob) return void (facts.dryRun = { ok: false, reason: `namespace_per_job: the runner creates namespace ${ns} for each job, so there is no namespace to dry-run in yet` })
    facts.dryRun = await attempt({ verb: 'create', resource: 'pods', namespace: ns, run: () =>
      Promise.all(input.rendered.objects.filter((o) => o.kind === 'Secret' || o.kind === 'Pod').map(async (obj) => {
        const kind = obj.kind ?? ''
        const name = obj.metadata?.name ?? ''
        try {
          if (kind === 'Secret') await target.call('dry-run create secret', () => core.createNamespacedSecret({ namespace: ns, body: obj as V1Secret, dryRun: 'All' }))
          else await target.call('dry-run create pod', () => core.createNamespacedPod({ namespace: ns, body: obj as V1Pod, dryRun: 'All' }))
          return { kind, name, accepted: true }
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          return { kind, name, accepted: false, status: err.status, ...(err.reason ? { reason: err.reason } : {}), message: err.message }
        }
      })),
    })
  })

  const version = target.getJson<{ gitVersion: string }>('/version')
  const wave = Promise.allSettled(tasks.map((t) => t()))
  try {
    facts.version = { ok: true, value: { gitVersion: (await version).gitVersion } }
  } catch (err) {
    // Unreachable (GkrError, exit 3): let the rest of the wave settle so nothing is left pending.
    await wave
    throw err
  }
  for (const r of await wave) if (r.status === 'rejected') throw r.reason
  opts.signal?.throwIfAborted()
  // A namespace known to be missing (a forbidden read of it proves nothing) makes the dry-run moot.
  if (!perJob && facts.namespace?.ok && !facts.namespace.value.exists) facts.dryRun = { ok: false, reason: `namespace ${ns} does not exist` }

  const lat = target.stats.latenciesMs.slice(base.latencies).sort((a, b) => a - b)
  const durationMs = performance.now() - t0
  const mine = {
    requests: target.stats.requests - base.requests,
    roundTrips: criticalPathDepth(target.stats.spans.slice(base.spans)),
    connections: target.stats.connections - base.connections,
    errors: target.stats.errors - base.errors,
    serverErrors: target.stats.serverErrors - base.serverErrors,
    retries: target.stats.retries - base.retries,
    internalErrors: (target.stats.internalErrors ?? 0) - base.internalErrors,
    internalMessages: (target.stats.internalMessages ?? []).slice(base.internalMessages),
  }
  facts.apiStats = { ok: true, value: { ...mine, durationMs, p95Ms: lat[Math.floor(lat.length * 0.95)] ?? 0 } }
  return { facts, stats: { requests: mine.requests, roundTrips: mine.roundTrips, connections: mine.connections, durationMs, errors: mine.errors, retries: mine.retries } }
}
