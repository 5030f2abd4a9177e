/**
 * The permission table: every Kubernetes API call the runner's Kubernetes executor makes, as
 * (apiGroup, resource, verb), with the setting that causes it. It follows the runner's code where its
 * documentation differs (shared/reference/runner-facts.md §5 and §7) and says so in `docsNote`.
 * It drives `gkr rbac`, doctor's permission check and docs/rbac.md.
 */
import type { LoadedRunner } from '../config/types.js'
import type { CiJob } from '../ci/types.js'
import { applyDefaults, kube } from '../config/load.js'
import { KUBERNETES_FIELDS } from '../config/schema.js'
import { resolveFeatureFlags } from '../config/feature-flags.js'

export interface PermissionRow {
  apiGroup: string
  resource: string
  verb: string
  /** Why the runner makes this call. */
  reason: string
  /** When the call is made, in config terms ("always", "FF_PRINT_POD_EVENTS=true", …). */
  when: string
  /** Cluster-scoped resources need a ClusterRole. */
  clusterScoped?: boolean
  /** The runner works without it (degrades with a warning), so a missing grant is a warning. */
  optional?: boolean
  /** Granted to every authenticated user by Kubernetes' default roles: never in a generated Role. */
  grantedByDefault?: boolean
  /** Where the runner's code and its documentation disagree about this row. */
  docsNote?: string
  /** The same, short enough for the comment on the verb in a printed Role. */
  docsComment?: string
  applies: (r: RunnerView) => boolean
}

export type Permission = Omit<PermissionRow, 'applies'>

/** What the conditions look at. */
export interface RunnerView {
  ff: Record<string, boolean>
  k: Record<string, unknown>
  /** Job-level facts, when a job is known (else the conservative default is used). */
  job?: { debugServices?: boolean; ports?: boolean; registryCredentials?: boolean }
}

const attach = (r: RunnerView): boolean => !r.ff.FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY
const suspend = (r: RunnerView): boolean => Boolean(r.ff.FF_SUSPENDABLE_ENVIRONMENTS)
const autoscaler = (r: RunnerView): boolean => typeof r.k.autoscaler === 'object' && r.k.autoscaler !== null
const podLog = (r: RunnerView): boolean =>
  Boolean(r.ff.FF_KUBERNETES_HONOR_ENTRYPOINT || r.ff.FF_WAIT_FOR_POD_TO_BE_REACHABLE || r.ff.FF_CONCRETE || (attach(r) && r.job?.debugServices))

const ATTACH_WHEN = 'attach strategy (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY=false, the default)'

export const PERMISSION_TABLE: readonly PermissionRow[] = [
  { apiGroup: '', resource: 'pods', verb: 'create', reason: 'creates the build pod', when: 'always', applies: () => true },
  { apiGroup: '', resource: 'pods', verb: 'get', reason: 'polls the pod until it runs, and checks it during every stage', when: 'always', applies: () => true },
  { apiGroup: '', resource: 'pods', verb: 'delete', reason: 'deletes the pod after the job', when: 'always', applies: () => true },
  { apiGroup: '', resource: 'pods', verb: 'list', reason: 'pod informer (notices failed pods at once)', when: 'the runner uses informers (17.9+; skipped with a warning when denied)', optional: true, applies: () => true },
  { apiGroup: '', resource: 'pods', verb: 'watch', reason: 'pod informer, and waiting for containers when their logs are captured', when: 'the runner uses informers, or FF_KUBERNETES_HONOR_ENTRYPOINT=true', optional: true, applies: () => true },
  ...(['create', 'delete', 'get', 'patch'] as const).map((verb) => ({
    apiGroup: '',
    resource: 'pods/exec',
    verb,
    reason: verb === 'create' || verb === 'get' ? 'writes the stage scripts, reads the job log (read-logs), health checks, cancels' : 'listed by the runner\'s API annotations for exec',
    when: 'always',
    applies: () => true,
  })),
  ...(['create', 'delete', 'get', 'patch'] as const).map((verb) => ({
    apiGroup: '',
    resource: 'pods/attach',
    verb,
    reason: verb === 'create' || verb === 'get' ? 'starts each stage by attaching to the container shell' : 'listed by the runner\'s API annotations for attach',
    when: ATTACH_WHEN,
    applies: attach,
  })),
  {
    apiGroup: '',
    resource: 'pods/log',
    verb: 'get',
    reason: 'reads container logs (entrypoint output, reachability, service logs)',
    when: 'FF_KUBERNETES_HONOR_ENTRYPOINT, FF_WAIT_FOR_POD_TO_BE_REACHABLE, FF_CONCRETE, or CI_DEBUG_SERVICES=true in attach mode',
    docsNote: 'The documentation ties pods/log to every attach-mode job; the code reads logs in attach mode only for jobs with CI_DEBUG_SERVICES=true. The documented `list` verb is never used.',
    docsComment: 'code differs from the docs: not needed for every attach-mode job, and `list` is never used',
    applies: podLog,
  },
  ...(['create', 'get', 'update', 'delete'] as const).map((verb) => ({
    apiGroup: '',
    resource: 'secrets',
    verb,
    reason: { create: 'creates the registry-credentials secret', get: 'reads it back after a create conflict, and checks image_pull_secrets exist', update: 'sets the secret\'s ownerReference to the pod', delete: 'deletes the secret when it never got an ownerReference' }[verb],
    when: 'jobs with registry credentials (DOCKER_AUTH_CONFIG, CI registry)',
    applies: () => true,
  })),
  {
    apiGroup: '',
    resource: 'serviceaccounts',
    verb: 'get',
    reason: 'checks the service account exists before creating the pod',
    when: 'service_account set and resource_availability_check_max_attempts > 0',
    docsNote: 'The documentation lists serviceaccounts get unconditionally (and `get`+`list` for the resource check); the code only gets the account, and only when the check is enabled (it is off by default).',
    docsComment: 'code differs from the docs: only with the availability check, and never `list`',
    applies: (r) => Boolean(r.k.service_account) && Number(r.k.resource_availability_check_max_attempts) > 0,
  },
  ...(['create', 'get'] as const).map((verb) => ({
    apiGroup: '',
    resource: 'services',
    verb,
    reason: 'creates the proxy service for a job image or service that declares ports (web terminal, session proxy)',
    when: 'a job image or service declares ports',
    docsNote: 'The documentation lists services create/get for every runner; the code creates services only for images that declare ports.',
    docsComment: 'code differs from the docs: only for images that declare ports',
    applies: (r: RunnerView) => Boolean(r.job?.ports),
  })),
  { apiGroup: '', resource: 'events', verb: 'list', reason: 'prints the pod\'s warning events when a job fails', when: 'print_pod_warning_events=true (the default)', optional: true, docsNote: 'Documented as conditional, but print_pod_warning_events defaults to true, so it is used by default.', docsComment: 'the docs call it conditional, but the setting is on by default', applies: (r) => r.k.print_pod_warning_events !== false },
  { apiGroup: '', resource: 'events', verb: 'watch', reason: 'streams pod events into the job log', when: 'FF_PRINT_POD_EVENTS=true', applies: (r) => Boolean(r.ff.FF_PRINT_POD_EVENTS) },
  { apiGroup: '', resource: 'namespaces', verb: 'create', reason: 'creates the per-job namespace ci-job-<id>', when: 'namespace_per_job=true', clusterScoped: true, applies: (r) => r.k.namespace_per_job === true },
  { apiGroup: '', resource: 'namespaces', verb: 'delete', reason: 'deletes the per-job namespace', when: 'namespace_per_job=true', clusterScoped: true, applies: (r) => r.k.namespace_per_job === true },
  { apiGroup: '', resource: 'namespaces', verb: 'get', reason: 'checks the namespace of a suspended environment', when: 'FF_SUSPENDABLE_ENVIRONMENTS=true', clusterScoped: true, applies: suspend },
  ...(['create', 'delete', 'get', 'update'] as const).map((verb) => ({ apiGroup: '', resource: 'configmaps', verb, reason: 'the overlay ConfigMap of a suspendable environment', when: 'FF_SUSPENDABLE_ENVIRONMENTS=true', applies: suspend })),
  ...(['create', 'delete'] as const).map((verb) => ({ apiGroup: '', resource: 'persistentvolumeclaims', verb, reason: 'the PVC that keeps a suspendable environment', when: 'FF_SUSPENDABLE_ENVIRONMENTS=true', applies: suspend })),
  ...(['create', 'get'] as const).map((verb) => ({ apiGroup: 'policy', resource: 'poddisruptionbudgets', verb, reason: 'a PodDisruptionBudget protecting the job pod', when: 'pod_disruption_budget=true', applies: (r: RunnerView) => r.k.pod_disruption_budget === true })),
  ...(['create', 'delete', 'get', 'list', 'update'] as const).map((verb) => ({ apiGroup: 'apps', resource: 'deployments', verb, reason: 'the pause-pod deployment of the autoscaler', when: '[runners.kubernetes.autoscaler] set', applies: autoscaler })),
  ...(['create', 'get'] as const).map((verb) => ({ apiGroup: 'scheduling.k8s.io', resource: 'priorityclasses', verb, reason: 'the priority class of the pause pods', when: '[runners.kubernetes.autoscaler] set', clusterScoped: true, applies: autoscaler })),
  { apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verb: 'create', reason: 'asks whether it may use informers', when: 'always', clusterScoped: true, grantedByDefault: true, docsNote: 'Not in the documentation; Kubernetes grants it to every authenticated user (system:basic-user).', applies: () => true },
]

/**
 * What `gkr cleanup` calls, as rows of the same shape: the lists it reads (metadata only, secret data is
 * never read) and, with --yes, the deletes and the finalizer patch. Drives `gkr rbac --for cleanup`, the
 * pre-check of `gkr cleanup --yes` and the cleanup section of docs/rbac.md.
 */
export const CLEANUP_PERMISSIONS: readonly Permission[] = [
  ...(['secrets', 'configmaps', 'services'] as const).flatMap((resource) => [
    { apiGroup: '', resource, verb: 'list', reason: `finds leaked runner ${resource} (metadata only)`, when: 'always' },
    { apiGroup: '', resource, verb: 'delete', reason: `deletes the leaked runner ${resource}`, when: 'cleanup runs with --yes' },
  ]),
  { apiGroup: '', resource: 'pods', verb: 'list', reason: 'finds runner pods stuck Terminating (metadata only)', when: 'always' },
  { apiGroup: '', resource: 'pods', verb: 'patch', reason: 'removes the finalizers that keep a stuck pod', when: 'cleanup runs with --yes' },
  { apiGroup: '', resource: 'pods', verb: 'delete', reason: 'force-deletes a stuck pod that has no finalizers (its node never confirmed)', when: 'cleanup runs with --yes' },
]

/** What jobs of a .gitlab-ci.yml add to the permissions: ports (proxy Services) and CI_DEBUG_SERVICES (service logs). */
export function jobNeeds(jobs: readonly CiJob[]): NonNullable<RunnerView['job']> {
  const ports = jobs.some((j) => (j.image?.ports ?? []).length > 0 || j.services.some((s) => (s.ports ?? []).length > 0))
  const debugServices = jobs.some((j) => /^(true|1)$/i.test(j.variables.CI_DEBUG_SERVICES ?? ''))
  return { ports, debugServices }
}

/** The view of a runner that sets nothing: the runner's defaults for every key and feature flag. */
function defaultView(): RunnerView {
  return { ff: resolveFeatureFlags({}).flags, k: applyDefaults({}, { kind: 'table', doc: '', fields: KUBERNETES_FIELDS }) }
}

export function runnerView(runner: LoadedRunner, job?: RunnerView['job']): RunnerView {
  // CI_DEBUG_SERVICES set for every job of the runner ([[runners]] environment) counts like a job's own.
  const env = Array.isArray(runner.settings.environment) ? (runner.settings.environment as unknown[]) : []
  const debugServices = env.some((e) => typeof e === 'string' && /^CI_DEBUG_SERVICES=(true|1)$/i.test(e))
  const j = debugServices ? { ...job, debugServices: true } : job
  return { ff: runner.featureFlags, k: kube(runner), ...(j ? { job: j } : {}) }
}

/**
 * The Role GitLab's Kubernetes executor page publishes (every condition on; seed 004), as
 * resource → verbs. gkr's Role follows the code instead; `leftOut` says what of this is not printed and why.
 */
export const DOCUMENTED_ROLE: Readonly<Record<string, readonly string[]>> = {
  events: ['list', 'watch'],
  namespaces: ['create', 'delete'],
  pods: ['create', 'delete', 'get', 'list', 'watch'],
  'pods/attach': ['create', 'delete', 'get', 'patch'],
  'pods/exec': ['create', 'delete', 'get', 'patch'],
  'pods/log': ['get', 'list'],
  secrets: ['create', 'delete', 'get', 'update'],
  serviceaccounts: ['get'],
  services: ['create', 'get'],
}

/** Permissions of the documented Role that this configuration does not need, each with the reason. */
export function leftOut(perms: readonly Permission[]): Array<{ resource: string; verb: string; why: string }> {
  const out: Array<{ resource: string; verb: string; why: string }> = []
  for (const [resource, verbs] of Object.entries(DOCUMENTED_ROLE)) {
    for (const verb of verbs) {
      if (perms.some((p) => p.apiGroup === '' && p.resource === resource && p.verb === verb)) continue
      const row = PERMISSION_TABLE.find((r) => r.apiGroup === '' && r.resource === resource && r.verb === verb)
      out.push({ resource, verb, why: row ? `only when ${row.when}` : 'the runner never makes this call' })
    }
  }
  return out
}

/** The permissions this runner's executor needs, one row per (group, resource, verb). */
export function requiredPermissions(runner: LoadedRunner, job?: RunnerView['job']): Permission[] {
  const view = runnerView(runner, job)
  return PERMISSION_TABLE.filter((row) => row.applies(view)).map(({ applies: _applies, ...p }) => p)
}

export interface RbacOptions {
  namespace: string
  name?: string
  /** Force a ClusterRole (otherwise chosen when a cluster-scoped permission is needed). */
  clusterRole?: boolean
  withBinding?: boolean
  serviceAccount?: string
  /** Compare with GitLab's documented runner Role and name what is left out (default true; false for cleanup's Role). */
  compareWithDocs?: boolean
}

export interface RbacRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  /** Why each verb is there (rendered as YAML comments). */
  reasons: Record<string, string>
}

/** Groups permissions into Role rules: one rule per (apiGroup, resource), verbs in a stable order. */
export function rulesFor(perms: readonly Permission[]): RbacRule[] {
  const rules = new Map<string, RbacRule>()
  for (const p of perms) {
    if (p.grantedByDefault) continue
    const key = `${p.apiGroup}\u0000${p.resource}`
    let r = rules.get(key)
    if (!r) rules.set(key, (r = { apiGroups: [p.apiGroup], resources: [p.resource], verbs: [], reasons: {} }))
    if (!r.verbs.includes(p.verb)) r.verbs.push(p.verb)
    r.reasons[p.verb] = `${p.when === 'always' ? p.reason : `${p.reason}; when ${p.when}`}${p.docsComment ? ` (${p.docsComment})` : ''}`
  }
  return [...rules.values()]
}

export interface RbacObjects {
  /** Verbs of GitLab's documented Role this configuration does not need (printed as comments). */
  leftOut: Array<{ resource: string; verb: string; why: string }>
  kind: 'Role' | 'ClusterRole'
  name: string
  namespace: string
  rules: RbacRule[]
  serviceAccount?: string
  withBinding: boolean
}

export function buildRbac(perms: readonly Permission[], opts: RbacOptions): RbacObjects {
  const needsCluster = perms.some((p) => p.clusterScoped && !p.grantedByDefault)
  return {
    kind: opts.clusterRole || needsCluster ? 'ClusterRole' : 'Role',
    name: opts.name ?? 'gitlab-runner',
    namespace: opts.namespace,
    rules: rulesFor(perms),
    leftOut: opts.compareWithDocs === false ? [] : leftOut(perms),
    withBinding: Boolean(opts.withBinding),
    ...(opts.serviceAccount ? { serviceAccount: opts.serviceAccount } : {}),
  }
}

/** docs/rbac.md: the whole conditional table, generated from PERMISSION_TABLE. */
export function renderRbacDocs(): string {
  const defaults = defaultView()
  const out = [
    '# Permissions the Kubernetes executor needs',
    '',
    '<!-- Generated by `npm run docs` from src/executor/permissions.ts: do not edit by hand. -->',
    '',
    '`gkr rbac` prints the minimal Role for a configuration from this table, and `gkr rbac --check` / `gkr doctor` ask the cluster for each row that applies. The table follows what the runner\'s code does (runner 19.x); where GitLab\'s documentation says otherwise, the last column says how.',
    '',
    '| API group | resource | verb | needed when | why | docs vs code |',
    '| --- | --- | --- | --- | --- | --- |',
    ...PERMISSION_TABLE.map((r) => `| \`${r.apiGroup || 'core'}\` | \`${r.resource}\` | ${r.verb} | ${r.when}${r.clusterScoped ? ' (cluster-scoped: ClusterRole)' : ''}${r.optional ? ' (optional: the runner degrades without it)' : ''} | ${r.reason} | ${r.docsNote ?? ''} |`),
    '',
    'Never used although documented: `pods/log` `list`. A namespaced Role can never grant `namespaces` verbs: `namespace_per_job` needs a ClusterRole (with `gkr rbac` this is chosen automatically).',
    '',
    '## What `gkr cleanup` needs',
    '',
    '`gkr cleanup` lists (dry-run) and with `--yes` deletes what runners leaked; it runs as whoever runs it, usually an operator rather than the runner. `gkr rbac --for cleanup` prints this Role (named `gkr-cleanup` unless `--name` says otherwise), and `gkr cleanup --yes` asks the cluster for every row before it deletes anything: when one is missing it names it and deletes nothing.',
    '',
    '| API group | resource | verb | needed | why |',
    '| --- | --- | --- | --- | --- |',
    ...CLEANUP_PERMISSIONS.map((r) => `| \`${r.apiGroup || 'core'}\` | \`${r.resource}\` | ${r.verb} | ${r.when === 'always' ? 'always (dry-run too)' : 'with --yes'} | ${r.reason} |`),
    '',
    '## GitLab\'s documented Role and gkr\'s',
    '',
    'The Kubernetes executor page publishes one Role with every condition switched on. With the default configuration gkr prints only what the runner\'s code calls; every verb of the documented Role that it leaves out is named in a comment at the top of the printed rules, with the setting that would add it.',
    '',
    '| resource | documented verb | with the default configuration | needed when |',
    '| --- | --- | --- | --- |',
    ...Object.entries(DOCUMENTED_ROLE).flatMap(([resource, verbs]) =>
      verbs.map((verb) => {
        const row = PERMISSION_TABLE.find((r) => r.apiGroup === '' && r.resource === resource && r.verb === verb)
        const byDefault = row?.applies(defaults) ? 'granted' : 'left out'
        return `| \`${resource}\` | ${verb} | ${byDefault} | ${row ? row.when : 'never: the runner does not make this call'} |`
      }),
    ),
    '',
  ]
  return out.join('\n')
}
