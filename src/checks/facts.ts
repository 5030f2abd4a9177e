/**
 * Facts gathered from a cluster before checks run. Each fact either holds a value or says why it
 * could not be read (a forbidden read names the verb and resource). src/kube/gather fills these in;
 * checks only read them. Offline, every fact is absent and checks that need one are skipped.
 */
export type FactResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; forbidden?: { verb: string; resource: string; namespace?: string } }

export interface AccessFact {
  verb: string
  group: string
  resource: string
  subresource?: string
  namespace?: string
  allowed: boolean
  reason?: string
  /** Why the runner needs it, and when (from the permission table). */
  why: string
  optional: boolean
  clusterScoped: boolean
  /**
   * `broad`: not a permission the runner needs but a probe for `*` on `*` (an over-broad grant).
   * Absent for the permission table's own entries.
   */
  probe?: 'broad'
}

export interface ObjectMeta {
  name: string
  namespace?: string
  labels: Record<string, string>
  annotations: Record<string, string>
  ownerReferences: Array<{ kind: string; name: string; uid: string }>
  creationTimestamp?: string
}

export interface DryRunFact {
  kind: string
  name: string
  accepted: boolean
  status?: number
  reason?: string
  message?: string
}

export interface QuotaFact {
  name: string
  hard: Record<string, string>
  used: Record<string, string>
}

export interface NodeFact {
  name: string
  labels: Record<string, string>
  taints: Array<{ key: string; value?: string; effect: string }>
  unschedulable: boolean
  ready: boolean
  allocatable: Record<string, string>
}

export interface WebhookFact {
  configuration: string
  name: string
  kind: 'validating' | 'mutating'
  failurePolicy: string
  sideEffects: string
  timeoutSeconds: number
  /** Whether its rules, namespaceSelector and objectSelector catch the runner's pods. */
  interceptsPods: boolean
  /** The runner's object kinds (pods, secrets, configmaps, services) it catches on create. */
  intercepts?: string[]
  service?: { namespace: string; name: string }
  /** Ready endpoint addresses of its backing service; absent when unknown (no service, or not readable). */
  readyEndpoints?: number
}

export interface PodFact {
  name: string
  phase: string
  labels: Record<string, string>
  creationTimestamp?: string
  waiting: string[]
  /** Set once the pod's deletion was requested: when its grace period ends (or ended). */
  deletionTimestamp?: string
  /** What must be removed before a deleted pod can go. */
  finalizers?: string[]
}

export interface EventFact {
  type: string
  reason: string
  message: string
  involvedObject: string
  lastTimestamp?: string
}

/** A policy-engine rule that only admits containers with a read-only root filesystem. */
export interface ReadOnlyPolicyFact {
  engine: 'kyverno' | 'gatekeeper'
  /** Kyverno (Cluster)Policy name, or Gatekeeper constraint name (template name when constraints could not be listed). */
  name: string
  /** Whether it rejects (Kyverno Enforce, Gatekeeper deny) rather than only audits or warns. */
  enforced: boolean
  /** Set when only the Gatekeeper template was found and its constraints could not be listed. */
  unknownConstraints?: boolean
  /** Whether it applies to the runner's namespace, as far as its match/exclude namespaces tell. */
  appliesToNamespace: boolean
}

/**
 * Doctor's own pod when it runs in-cluster: the runner manager's pod when doctor runs in it (or beside
 * it), and the node it was scheduled on. `null`: doctor did not use in-cluster configuration, so
 * there is no pod of its own to read.
 */
export interface ManagerPodFact {
  name: string
  namespace: string
  /** spec.nodeName; empty while unscheduled. */
  nodeName: string
  /** spec.nodeSelector. */
  nodeSelector: Record<string, string>
  /** Values of kubernetes.io/os that every required node affinity term admits (In), when every term pins it. */
  affinityOs?: string[]
  /** The image of each container of the pod (the runner's own image gives the version it runs). */
  images?: string[]
  /** The node's labels, or why they could not be read (a forbidden read names the verb). */
  node: FactResult<{ name: string; labels: Record<string, string> }>
}

/** What the short-lived probe pod of `doctor --live` observed. */
export interface ProbeFact {
  timeToReadyMs?: number
  dns: Array<{ host: string; resolved: boolean; addresses?: string[]; error?: string }>
  mtu?: number
  events: string[]
  error?: string
}

/** Every fact src/kube/gather can read. (The `gitlab` fact is added by src/gitlab/facts.ts.) */
export interface FactTypes {
  version: { gitVersion: string }
  /** `createdPerJob`: namespace_per_job, so the runner creates it (it is not expected to exist). */
  namespace: { name: string; exists: boolean; labels: Record<string, string>; annotations?: Record<string, string>; createdPerJob?: boolean }
  /** Whether the cluster serves OpenShift's security.openshift.io/v1 (SecurityContextConstraints). */
  openshiftScc: boolean
  access: AccessFact[]
  serviceAccount: { name: string; exists: boolean } | null
  secrets: ObjectMeta[]
  configMaps: ObjectMeta[]
  pvcs: ObjectMeta[]
  services: ObjectMeta[]
  /** Data keys of the config maps the pod mounts with `items` (config maps only: secret data is never read). */
  configMapKeys: Record<string, string[]>
  /** Names of the CSIDrivers installed, read when the pod has CSI volumes. */
  csiDrivers: string[]
  /** Namespaces named like namespace_per_job's (ci-job-<id>), cluster-wide. */
  jobNamespaces: ObjectMeta[]
  classes: { runtimeClass?: { name: string; exists: boolean }; priorityClass?: { name: string; exists: boolean } }
  dryRun: DryRunFact[]
  quotas: QuotaFact[]
  limitRanges: Array<{ name: string; limits: Array<Record<string, unknown>> }>
  webhooks: WebhookFact[]
  readOnlyPolicies: ReadOnlyPolicyFact[]
  nodes: NodeFact[]
  pods: PodFact[]
  events: EventFact[]
  apiStats: { requests: number; /** Measured critical-path depth: requests that had to wait for one another. */ roundTrips: number; /** New connections opened. */ connections?: number; errors: number; serverErrors: number; durationMs: number; p95Ms: number; /** Tries repeated after a transient failure (the runner's retry_limit policy). */ retries?: number; /** 500 InternalError answers (a webhook call failed, not the API server), with up to 3 of their messages. */ internalErrors?: number; internalMessages?: string[] }
  now: { time: string }
  probe: ProbeFact
  managerPod: ManagerPodFact | null
}

export type FactName = Extract<keyof FactTypes, string>

export type Facts = { [K in keyof FactTypes]?: FactResult<FactTypes[K]> }
