/**
 * What the GitLab Runner Helm chart does with its values, as data. Read from the chart's templates
 * (`configmap.yaml`, `_env_vars.tpl`, `role.yaml`, `deployment.yaml`, `values.yaml` of chart 0.86.0, and
 * `_env_vars.tpl`/`configmap.yaml` of charts 0.9 and 0.49 for the legacy keys) and the runner's
 * `commands/register.go` (how `register --template-config` merges runners.config).
 */

/**
 * Global config.toml keys: the chart writes the global section itself from these values, and the
 * runner's register command takes only the [[runners]] entry of runners.config, so a global key there
 * is dropped.
 */
export const CHART_GLOBAL_VALUES: Readonly<Record<string, { value: string; yaml: (v: unknown) => string }>> = {
  concurrent: { value: 'concurrent', yaml: (v) => `concurrent: ${JSON.stringify(v)}` },
  check_interval: { value: 'checkInterval', yaml: (v) => `checkInterval: ${JSON.stringify(v)}` },
  log_level: { value: 'logLevel', yaml: (v) => `logLevel: ${JSON.stringify(v)}` },
  log_format: { value: 'logFormat', yaml: (v) => `logFormat: ${JSON.stringify(v)}` },
  shutdown_timeout: { value: 'shutdown_timeout', yaml: (v) => `shutdown_timeout: ${JSON.stringify(v)}` },
  listen_address: { value: 'metrics.enabled and metrics.port', yaml: (v) => `metrics:\n  enabled: true\n  port: ${/:(\d+)$/.exec(String(v))?.[1] ?? 9252}` },
  sentry_dsn: { value: 'sentryDsn', yaml: () => 'sentryDsn: "<dsn>"' },
  connection_max_age: { value: 'connectionMaxAge', yaml: (v) => `connectionMaxAge: ${JSON.stringify(v)}` },
  session_server: { value: 'sessionServer', yaml: () => 'sessionServer:\n  enabled: true' },
}

export interface LegacyKey {
  /** Values path under the chart's values (`runners.image`). */
  path: string
  /** Where the setting lives now: a key of the runner's config.toml, in runners.config. */
  toml: { table: '[[runners]]' | '[runners.kubernetes]' | '[runners.cache]'; key: string }
}

const k = (path: string, key: string): LegacyKey => ({ path, toml: { table: '[runners.kubernetes]', key } })
const r = (path: string, key: string): LegacyKey => ({ path, toml: { table: '[[runners]]', key } })
const c = (path: string, key: string): LegacyKey => ({ path, toml: { table: '[runners.cache]', key } })

/** The chart version that stopped reading the legacy keys (MRs !393 and !397, runner 16.0). */
export const LEGACY_REMOVED_IN_CHART = '0.53.0'

/** Chart values the chart turned into register flags or config.toml keys until 0.53.0. */
export const LEGACY_KEYS: readonly LegacyKey[] = [
  k('runners.image', 'image'),
  k('runners.privileged', 'privileged'),
  k('runners.namespace', 'namespace'),
  k('runners.serviceAccountName', 'service_account'),
  k('runners.imagePullPolicy', 'pull_policy'),
  k('runners.pollTimeout', 'poll_timeout'),
  k('runners.nodeSelector', 'node_selector'),
  k('runners.nodeTolerations', 'node_tolerations'),
  k('runners.podLabels', 'pod_labels'),
  k('runners.podAnnotations', 'pod_annotations'),
  k('runners.imagePullSecrets', 'image_pull_secrets'),
  k('runners.builds.cpuLimit', 'cpu_limit'),
  k('runners.builds.memoryLimit', 'memory_limit'),
  k('runners.builds.cpuRequests', 'cpu_request'),
  k('runners.builds.memoryRequests', 'memory_request'),
  k('runners.builds.cpuLimitOverwriteMaxAllowed', 'cpu_limit_overwrite_max_allowed'),
  k('runners.builds.memoryLimitOverwriteMaxAllowed', 'memory_limit_overwrite_max_allowed'),
  k('runners.builds.cpuRequestsOverwriteMaxAllowed', 'cpu_request_overwrite_max_allowed'),
  k('runners.builds.memoryRequestsOverwriteMaxAllowed', 'memory_request_overwrite_max_allowed'),
  k('runners.services.cpuLimit', 'service_cpu_limit'),
  k('runners.services.memoryLimit', 'service_memory_limit'),
  k('runners.services.cpuRequests', 'service_cpu_request'),
  k('runners.services.memoryRequests', 'service_memory_request'),
  k('runners.helpers.cpuLimit', 'helper_cpu_limit'),
  k('runners.helpers.memoryLimit', 'helper_memory_limit'),
  k('runners.helpers.cpuRequests', 'helper_cpu_request'),
  k('runners.helpers.memoryRequests', 'helper_memory_request'),
  k('runners.helpers.image', 'helper_image'),
  r('runners.outputLimit', 'output_limit'),
  r('runners.requestConcurrency', 'request_concurrency'),
  r('runners.cloneUrl', 'clone_url'),
  r('runners.env', 'environment'),
  c('runners.cache.cacheType', 'Type'),
  c('runners.cache.cachePath', 'Path'),
  c('runners.cache.cacheShared', 'Shared'),
  c('runners.cache.s3ServerAddress', 's3.ServerAddress'),
  c('runners.cache.s3BucketName', 's3.BucketName'),
  c('runners.cache.s3BucketLocation', 's3.BucketLocation'),
  c('runners.cache.s3CacheInsecure', 's3.Insecure'),
  c('runners.cache.gcsBucketName', 'gcs.BucketName'),
]

/**
 * Values the chart passes to `register` that GitLab ignores for a runner authentication token
 * (glrt-…): the chart itself unsets them then; they belong to the runner's settings in GitLab.
 */
export const REGISTRATION_ONLY_VALUES = ['runners.tags', 'runners.locked', 'runners.runUntagged', 'runners.protected'] as const

/** The manager's default terminationGracePeriodSeconds (values.yaml) and GitLab's default job timeout. */
export const CHART_DEFAULT_GRACE_SECONDS = 3600
export const GITLAB_DEFAULT_JOB_TIMEOUT_SECONDS = 3600
/** The runner's own default shutdown_timeout when the value is 0 (common/consts.go). */
export const RUNNER_DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30

/** One rule of the Role the chart renders (role.yaml): each field defaults when missing or empty. */
export interface ChartRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
}

/** The rules the chart's Role has for these values (empty `rbac.rules`: one wildcard rule on the core group). */
export function chartRules(rules: unknown): ChartRule[] {
  const list = Array.isArray(rules) ? rules : []
  if (list.length === 0) return [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }]
  const strs = (v: unknown, d: string): string[] => (Array.isArray(v) && v.length > 0 ? v.map(String) : [d])
  return list.map((x) => {
    const o = typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {}
    return { apiGroups: strs(o.apiGroups, ''), resources: strs(o.resources, '*'), verbs: strs(o.verbs, '*') }
  })
}

/** Whether a rule set grants a verb on a resource (RBAC's matching: `*` matches any group, resource or verb). */
export function grants(rules: readonly ChartRule[], apiGroup: string, resource: string, verb: string): boolean {
  return rules.some((r) => (r.apiGroups.includes('*') || r.apiGroups.includes(apiGroup)) && (r.resources.includes('*') || r.resources.includes(resource)) && (r.verbs.includes('*') || r.verbs.includes(verb)))
}
