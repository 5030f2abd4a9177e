/**
 * Every documented key of the runner's config.toml that matters to the Kubernetes executor: its TOML
 * type, the default the runner applies, a description and its status. This one table drives parsing
 * (types), validation (unknown keys, did-you-mean), defaults and docs/config-reference.md.
 * Source: the runner's `common/config.go` as summarised in shared/reference/runner-facts.md §1.
 */

export type Kind =
  | 'string'
  | 'int'
  | 'bool'
  | 'float'
  /** A TOML date-time (or an RFC 3339 string), Go time.Time. */
  | 'datetime'
  /** Go duration string, e.g. "5m", "30s". */
  | 'duration'
  /** Kubernetes quantity string, e.g. "500m", "1Gi". */
  | 'quantity'
  /** A Go (RE2) regular expression, as a string. */
  | 'regex'
  | 'string[]'
  /** An array of integers (Go []int64). */
  | 'int[]'
  /** A string or an array of strings (the runner's StringOrArray). */
  | 'string|string[]'
  /** A table with free-form keys whose values all have `values` kind. */
  | 'map'
  /** A table with the keys in `fields`. */
  | 'table'
  /** An array of tables ([[x]] or [{...}]) with the keys in `fields`. */
  | 'table[]'

export interface KeyStatus {
  kind: 'removed' | 'deprecated' | 'ignored'
  /** Runner version since when. */
  since: string
  note: string
  /** The key to use instead, when there is one. */
  replacement?: string
}

export interface KeyDef {
  kind: Kind
  doc: string
  default?: unknown
  /** Human form of the default when it is computed (e.g. "`default`", "alpine"). */
  defaultText?: string
  enum?: readonly string[]
  secret?: boolean
  status?: KeyStatus
  /** For `table` and `table[]`. */
  fields?: Readonly<Record<string, KeyDef>>
  /** For `map`: the kind of every value. */
  values?: Kind
  /** For `table` whose keys are not all known in advance (e.g. pass-through sections). */
  open?: boolean
}

const s = (doc: string, extra: Partial<KeyDef> = {}): KeyDef => ({ kind: 'string', doc, ...extra })
const i = (doc: string, extra: Partial<KeyDef> = {}): KeyDef => ({ kind: 'int', doc, ...extra })
const b = (doc: string, extra: Partial<KeyDef> = {}): KeyDef => ({ kind: 'bool', doc, ...extra })
const q = (doc: string): KeyDef => ({ kind: 'quantity', doc })
const re = (doc: string): KeyDef => ({ kind: 'regex', doc, default: '' })
const list = (doc: string, extra: Partial<KeyDef> = {}): KeyDef => ({ kind: 'string[]', doc, default: [], ...extra })
const map = (doc: string, values: Kind = 'string'): KeyDef => ({ kind: 'map', doc, values, default: {} })
const table = (doc: string, fields: Record<string, KeyDef>, extra: Partial<KeyDef> = {}): KeyDef => ({ kind: 'table', doc, fields, ...extra })
const tables = (doc: string, fields: Record<string, KeyDef>): KeyDef => ({ kind: 'table[]', doc, fields, default: [] })

export const PULL_POLICIES = ['always', 'never', 'if-not-present'] as const
export const DNS_POLICIES = ['none', 'default', 'cluster-first', 'cluster-first-with-host-net'] as const
export const HELPER_FLAVORS = ['alpine', 'alpine3.19', 'alpine3.21', 'alpine-latest', 'ubuntu', 'ubi-fips', 'concrete'] as const
export const TOLERATION_EFFECTS = ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const

const seccompOrAppArmor = (what: string): KeyDef =>
  table(`${what} profile of the container or pod.`, {
    type: s('Profile type.', { enum: ['RuntimeDefault', 'Unconfined', 'Localhost'] }),
    localhost_profile: s('Path of the profile on the node, for type Localhost.'),
  })

const capabilities = table('Linux capabilities to add and drop for this container; each list, when set, replaces the global cap_add / cap_drop list.', {
  add: list('Capabilities to add.', { default: undefined }),
  drop: list('Capabilities to drop (e.g. ["ALL"]).', { default: undefined }),
})

const containerSecurityContext = (which: string): KeyDef =>
  table(`Security context of the ${which}.`, {
    capabilities,
    privileged: b('Run the container privileged (overrides the global privileged).'),
    run_as_user: i('UID the container runs as.'),
    run_as_group: i('GID the container runs as.'),
    run_as_non_root: b('Refuse to start the container as root.'),
    read_only_root_filesystem: b('Mount the container root filesystem read-only.'),
    allow_privilege_escalation: b('Allow processes to gain more privileges than their parent (overrides the global setting).'),
    selinux_type: s('SELinux type label.'),
    proc_mount: s('Proc mount type.', { enum: ['default', 'unmasked'] }),
    seccomp_profile: seccompOrAppArmor('Seccomp'),
    app_armor_profile: seccompOrAppArmor('AppArmor'),
  })

const volumeBase = {
  name: s('Volume name (unique within the pod).'),
  mount_path: s('Where the volume is mounted in the containers (job variables are expanded).'),
  sub_path: s('Mount this sub-path of the volume instead of its root.'),
}
const mountPropagation = s('Mount propagation mode.', { enum: ['None', 'HostToContainer', 'Bidirectional'] })

const volumes = table('Volumes mounted into the build, helper and service containers.', {
  host_path: tables('Directories of the node mounted into the pod.', {
    ...volumeBase,
    host_path: s('Path on the node (empty: same as mount_path).'),
    read_only: b('Mount read-only.', { default: false }),
    mount_propagation: mountPropagation,
  }),
  pvc: tables('PersistentVolumeClaims mounted into the pod (name may use job variables, e.g. PVC-${CI_CONCURRENT_ID}).', {
    ...volumeBase,
    read_only: b('Mount read-only.', { default: false }),
    mount_propagation: mountPropagation,
  }),
  config_map: tables('ConfigMaps mounted into the pod.', {
    ...volumeBase,
    read_only: b('Mount read-only.', { default: false }),
    items: map('Keys of the ConfigMap to mount and the file path for each (key = path).'),
  }),
  secret: tables('Secrets mounted into the pod.', {
    ...volumeBase,
    read_only: b('Mount read-only.', { default: false }),
    items: map('Keys of the Secret to mount and the file path for each (key = path).'),
  }),
  empty_dir: tables('Scratch directories that live as long as the pod.', {
    ...volumeBase,
    medium: s('Storage medium: empty for the node disk, "Memory" for tmpfs.', { enum: ['', 'Memory'] }),
    size_limit: { kind: 'quantity', doc: 'Size limit of the directory (e.g. "1Gi").' },
    mount_propagation: mountPropagation,
  }),
  csi: tables('Volumes provided by a CSI driver.', {
    ...volumeBase,
    driver: s('Name of the CSI driver.'),
    fs_type: s('Filesystem type to mount.'),
    read_only: b('Mount read-only.', { default: false }),
    volume_attributes: map('Driver-specific attributes.'),
  }),
  nfs: tables('NFS shares mounted into the pod.', {
    ...volumeBase,
    server: s('NFS server host name or IP.'),
    path: s('Exported path on the server.'),
    read_only: b('Mount read-only.', { default: false }),
  }),
})

const labelSelector = table('Label selector.', {
  match_labels: map('Labels that must match exactly.'),
  match_expressions: tables('Set-based requirements.', { key: s('Label key.'), operator: s('In, NotIn, Exists or DoesNotExist.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }), values: list('Values.') }),
})
const nodeSelectorTerm = {
  match_expressions: tables('Node label requirements.', { key: s('Label key.'), operator: s('In, NotIn, Exists, DoesNotExist, Gt or Lt.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] }), values: list('Values.') }),
  match_fields: tables('Node field requirements.', { key: s('Field key.'), operator: s('Operator.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] }), values: list('Values.') }),
}
const podAffinityTerm = {
  label_selector: labelSelector,
  namespaces: list('Namespaces the selector applies to.'),
  namespace_selector: labelSelector,
  topology_key: s('Node label that defines the topology domain.'),
  match_label_keys: list('Pod label keys merged into the selector.'),
  mismatch_label_keys: list('Pod label keys whose values must differ.'),
}
const podAffinity = (what: string): KeyDef =>
  table(`${what} rules.`, {
    required_during_scheduling_ignored_during_execution: tables('Hard requirements.', podAffinityTerm),
    preferred_during_scheduling_ignored_during_execution: tables('Weighted preferences.', {
      weight: i('Weight 1-100.'),
      pod_affinity_term: table('The term.', podAffinityTerm),
    }),
  })
const affinity = table('Affinity rules of the build pod.', {
  node_affinity: table('Node affinity.', {
    required_during_scheduling_ignored_during_execution: table('Hard requirements.', {
      node_selector_terms: tables('Terms (any one must match).', nodeSelectorTerm),
    }),
    preferred_during_scheduling_ignored_during_execution: tables('Weighted preferences.', {
      weight: i('Weight 1-100.'),
      preference: table('The preferred term.', nodeSelectorTerm),
    }),
  }),
  pod_affinity: podAffinity('Pod affinity'),
  pod_anti_affinity: podAffinity('Pod anti-affinity'),
})

const lifecycleHandler = table('Lifecycle hook handler.', {
  exec: table('Run a command.', { command: list('Command and arguments.') }),
  http_get: table('Send an HTTP GET.', {
    host: s('Host.'),
    port: i('Port.'),
    path: s('Path.'),
    scheme: s('HTTP or HTTPS.', { enum: ['HTTP', 'HTTPS'] }),
    http_headers: tables('Headers.', { name: s('Header name.'), value: s('Header value.') }),
  }),
  tcp_socket: table('Open a TCP connection.', { host: s('Host.'), port: i('Port.') }),
})

const RESOURCE_PREFIXES = ['', 'service_', 'helper_'] as const
function resourceKeys(): Record<string, KeyDef> {
  const out: Record<string, KeyDef> = {}
  const who: Record<string, string> = { '': 'build container', service_: 'service containers', helper_: 'helper and init-permissions containers', pod_: 'pod as a whole (pod-level resources)' }
  for (const p of [...RESOURCE_PREFIXES, 'pod_'] as const) {
    const resources = p === 'pod_' ? (['cpu', 'memory'] as const) : (['cpu', 'memory', 'ephemeral_storage'] as const)
    for (const r of resources) {
      for (const kind of ['request', 'limit'] as const) {
        const key = `${p}${r}_${kind}`
        out[key] = q(`${r.replace('_', '-')} ${kind} of the ${who[p]}.`)
        out[`${key}_overwrite_max_allowed`] = q(`Largest ${r.replace('_', '-')} ${kind} a job may set for the ${who[p]} with KUBERNETES_${key.toUpperCase()} (empty: overwrite not allowed).`)
      }
    }
  }
  return out
}

export const KUBERNETES_FIELDS: Readonly<Record<string, KeyDef>> = {
  host: s('URL of the Kubernetes API server (empty: in-cluster configuration, then kubeconfig).', { default: '' }),
  context: s('kubeconfig context to use when host is empty and in-cluster configuration is not available.', { default: '' }),
  cert_file: s('Client certificate for the API server (requires key_file and ca_file).', { default: '' }),
  key_file: s('Client key for the API server.', { default: '' }),
  ca_file: s('CA certificate of the API server.', { default: '' }),
  bearer_token: s('Bearer token for the API server, used together with host.', { default: '', secret: true }),
  bearer_token_overwrite_allowed: b('Let jobs set KUBERNETES_BEARER_TOKEN.', { default: false }),
  image: s('Default job image when the job names none.', { default: '' }),
  namespace: s('Namespace the job pods run in.', { default: '', defaultText: '`default`' }),
  namespace_overwrite_allowed: re('Regex of namespaces a job may choose with KUBERNETES_NAMESPACE_OVERWRITE (empty: not allowed).'),
  namespace_per_job: b('Run every job in its own namespace ci-job-<job id> (needs permission to create namespaces).', { default: false }),
  privileged: b('Run containers privileged (needed for Docker-in-Docker).'),
  allow_privilege_escalation: b('Set allowPrivilegeEscalation on all containers.'),
  runtime_class_name: s('RuntimeClass of the build pod.'),
  allowed_images: list('Glob patterns of job images the runner accepts (empty: any).'),
  allowed_services: list('Glob patterns of service images the runner accepts (empty: any).'),
  allowed_pull_policies: list('Pull policies jobs may ask for (empty: those of pull_policy; "" allows no policy, the cluster default).', { enum: ['', ...PULL_POLICIES] }),
  allowed_users: list('User IDs a job may run as (empty: any non-root ID).'),
  allowed_groups: list('Group IDs a job may run as (empty: any non-root ID).'),
  pull_policy: { kind: 'string|string[]', doc: 'Image pull policy, or a list tried in order on pull failures.', default: [], enum: PULL_POLICIES },
  node_selector: map('Node labels the build pod must match (key = value).'),
  node_selector_overwrite_allowed: re('Regex of node selector labels a job may add with KUBERNETES_NODE_SELECTOR_*.'),
  node_tolerations: map('Tolerations of the build pod: "key=value" = "Effect".'),
  node_tolerations_overwrite_allowed: re('Regex of tolerations a job may add with KUBERNETES_NODE_TOLERATIONS_*.'),
  affinity,
  image_pull_secrets: list('Secrets with registry credentials given to the pod.'),
  use_service_account_image_pull_secrets: b("Use only the service account's image pull secrets (the pod gets none of its own).", { default: false }),
  helper_image: s('Helper image to use instead of the default one.', { default: '' }),
  helper_image_flavor: s('Flavor of the default helper image.', { default: '', defaultText: '`alpine`', enum: HELPER_FLAVORS }),
  helper_image_autoset_arch_and_os: b("Pick the helper image for the node's OS and architecture.", { default: false }),
  pod_termination_grace_period_seconds: i('Seconds the pod gets to stop gracefully (empty: Kubernetes default of 30).'),
  cleanup_grace_period_seconds: i('Grace period used when the runner deletes the pod after the job.'),
  cleanup_resources_timeout: { kind: 'duration', doc: 'Time allowed for deleting the job resources after the job.', default: '5m' },
  poll_interval: i('Seconds between checks whether the pod is running.', { default: 3 }),
  poll_timeout: i('Seconds to wait for the pod to be running before the job fails ("timed out waiting for pod to start").', { default: 180 }),
  resource_availability_check_max_attempts: i('Attempts to find the service account and image pull secrets before creating the pod (0: check disabled).', { default: 0 }),
  retry_limit: i('How often a failed API request is tried in total.', { default: 5 }),
  retry_backoff_max: i('Longest wait between API retries, in milliseconds (at least 500).', { default: 2000 }),
  retry_limits: map('Tries per error message substring, overriding retry_limit.', 'int'),
  pod_labels: map('Extra labels of the build pod (job variables are expanded).'),
  pod_labels_overwrite_allowed: re('Regex of pod labels a job may set with KUBERNETES_POD_LABELS_*.'),
  pod_annotations: map('Extra annotations of the build pod (job variables are expanded).'),
  pod_annotations_overwrite_allowed: re('Regex of pod annotations a job may set with KUBERNETES_POD_ANNOTATIONS_*.'),
  scheduler_name: s('Scheduler that places the build pod.'),
  service_account: s('Service account of the build pod (empty: the namespace default).', { default: '' }),
  service_account_overwrite_allowed: re('Regex of service accounts a job may choose with KUBERNETES_SERVICE_ACCOUNT_OVERWRITE.'),
  automount_service_account_token: b('Mount the service account token into the build pod.'),
  pod_security_context: table('Security context of the build pod.', {
    fs_group: i('Group that owns mounted volumes.'),
    run_as_group: i('GID of every container.'),
    run_as_non_root: b('Refuse to start containers as root.'),
    run_as_user: i('UID of every container.'),
    supplemental_groups: { kind: 'int[]', doc: 'Additional GIDs of every container (integers).' },
    selinux_type: s('SELinux type label.'),
    seccomp_profile: seccompOrAppArmor('Seccomp'),
    app_armor_profile: seccompOrAppArmor('AppArmor'),
  }),
  build_container_security_context: containerSecurityContext('build container'),
  helper_container_security_context: containerSecurityContext('helper container'),
  init_permissions_container_security_context: containerSecurityContext('init-permissions init container'),
  service_container_security_context: containerSecurityContext('service containers'),
  volumes,
  host_aliases: tables('Extra /etc/hosts entries of the build pod (not supported on Windows).', {
    ip: s('IP address.'),
    hostnames: list('Host names for the IP.'),
  }),
  services: tables('Services started with every job, before the job\'s own services.', {
    name: s('Service image.'),
    alias: s('Host names of the service (space or comma separated).'),
    command: list('Arguments (the image CMD).'),
    entrypoint: list('Entrypoint (the image ENTRYPOINT).'),
    environment: list('Variables of the service, "KEY=value".'),
    suspend_data_path: s('Data path kept when the environment is suspended.'),
  }),
  cap_add: list('Linux capabilities added to the containers.'),
  cap_drop: list('Linux capabilities dropped from the containers (NET_RAW is dropped by default on Linux).'),
  dns_policy: s('DNS policy of the build pod.', { default: '', defaultText: '`cluster-first`', enum: DNS_POLICIES }),
  dns_config: table('DNS settings of the build pod.', {
    nameservers: list('Name server IPs.'),
    searches: list('Search domains.'),
    options: tables('Resolver options.', { name: s('Option name.'), value: s('Option value.') }),
  }),
  container_lifecycle: table('Lifecycle hooks of every container.', { post_start: lifecycleHandler, pre_stop: lifecycleHandler }),
  priority_class_name: s('PriorityClass of the build pod.'),
  pod_spec: tables('Patches applied to the generated pod spec (needs FF_USE_ADVANCED_POD_SPEC_CONFIGURATION).', {
    name: s('Name of the patch (for logs).'),
    patch: s('The patch, as JSON or YAML text.'),
    patch_path: s('File holding the patch.'),
    patch_type: s('How the patch is applied.', { default: 'strategic', enum: ['strategic', 'merge', 'json'] }),
  }),
  logs_base_dir: s('Directory under which the logs volume is mounted.', { default: '' }),
  scripts_base_dir: s('Directory under which the scripts volume is mounted.', { default: '' }),
  print_pod_warning_events: b('Print the pod\'s warning events to the job log when the job fails.', { default: true }),
  pod_disruption_budget: b('Create a PodDisruptionBudget for each job pod (runner 18.11+).', { default: false }),
  suspend_pvc_size: s('Size of the PVC that keeps a suspended environment.', { defaultText: '`20Gi`' }),
  suspend_pvc_storage_class: s('StorageClass of that PVC.'),
  autoscaler: table('Pause pods that keep node capacity ready for jobs.', {
    max_pause_pods: i('Largest number of pause pods.'),
    pause_pod_image: s('Image of the pause pods.', { default: 'registry.k8s.io/pause:3.10' }),
    pause_pod_priority_class_name: s('PriorityClass of the pause pods.'),
    pause_pod_image_pull_secrets: list('Pull secrets of the pause pods.'),
    policy: { kind: 'table[]', doc: 'Time-based policies.', fields: {}, open: true },
  }),
  terminationGracePeriodSeconds: i('Old name of the grace period setting.', {
    status: { kind: 'removed', since: '17.0', note: 'The runner no longer reads it.', replacement: 'pod_termination_grace_period_seconds' },
  }),
  ...resourceKeys(),
}

export const CACHE_FIELDS: Readonly<Record<string, KeyDef>> = {
  Type: s('Cache backend.', { enum: ['s3', 'gcs', 'azure'] }),
  Path: s('Prefix of cache objects.'),
  Shared: b('Share the cache between runners.', { default: false }),
  MaxUploadedArchiveSize: i('Largest cache archive uploaded, in bytes.'),
  s3: { kind: 'table', doc: 'S3 settings.', fields: {}, open: true },
  gcs: { kind: 'table', doc: 'Google Cloud Storage settings.', fields: {}, open: true },
  azure: { kind: 'table', doc: 'Azure Blob Storage settings.', fields: {}, open: true },
}

export const RUNNER_FIELDS: Readonly<Record<string, KeyDef>> = {
  name: s('Name of the runner (shown in job logs).', { default: '' }),
  url: s('URL of the GitLab instance.', { default: '' }),
  token: s('The runner authentication token.', { default: '', secret: true }),
  id: i('The runner ID.'),
  token_obtained_at: { kind: 'datetime', doc: 'When the token was obtained (written by the runner).' },
  token_expires_at: { kind: 'datetime', doc: 'When the token expires (written by the runner).' },
  'tls-ca-file': s('CA certificate of the GitLab instance (note the hyphens).'),
  'tls-cert-file': s('Client certificate for GitLab.'),
  'tls-key-file': s('Client key for GitLab.'),
  limit: i('Largest number of jobs this runner handles at once (0: no limit).', { default: 0 }),
  output_limit: i('Largest job log size in kilobytes.', { default: 4096 }),
  request_concurrency: i('Concurrent job requests to GitLab.', { default: 1 }),
  unhealthy_requests_limit: i('Failed job requests before the runner counts as unhealthy.'),
  unhealthy_interval: { kind: 'duration', doc: 'How long an unhealthy runner pauses.' },
  executor: s('The executor; gkr checks runners whose executor is kubernetes.', { default: '' }),
  builds_dir: s('Directory in the build container where builds are cloned.', { default: '', defaultText: '`/builds`' }),
  cache_dir: s('Directory of the local cache.', { default: '', defaultText: '`/cache`' }),
  clone_url: s('URL used to clone instead of url.'),
  environment: list('Variables for every job, "KEY=value" (feature flags may be set here too).'),
  pre_get_sources_script: s('Script run before the sources are fetched.'),
  post_get_sources_script: s('Script run after the sources are fetched.'),
  pre_build_script: s('Script run before the job script.'),
  pre_clone_script: s('Old name of pre_get_sources_script.', { status: { kind: 'removed', since: '17.0', note: 'The runner no longer reads it.', replacement: 'pre_get_sources_script' } }),
  post_clone_script: s('Old name of post_get_sources_script.', { status: { kind: 'removed', since: '17.0', note: 'The runner no longer reads it.', replacement: 'post_get_sources_script' } }),
  post_build_script: s('Script run after the job script.'),
  prepare_timeout: { kind: 'duration', doc: 'Time allowed for the prepare stage.' },
  get_sources_timeout: { kind: 'duration', doc: 'Time allowed for fetching sources.' },
  debug_trace_disabled: b('Refuse CI_DEBUG_TRACE.', { default: false }),
  safe_directory_checkout: b('Mark the checkout as a git safe.directory.', { default: true }),
  clean_git_config: b('Remove git configuration left by earlier jobs.'),
  shell: s('Shell the job script runs in.', { default: '', defaultText: '`bash`', enum: ['bash', 'sh', 'pwsh', 'powershell'] }),
  custom_build_dir: table('Custom build directories.', { enabled: b('Let jobs set GIT_CLONE_PATH.', { default: true }) }),
  cache: table('Distributed cache.', CACHE_FIELDS as Record<string, KeyDef>),
  feature_flags: map('Feature flags for every job of this runner ("FF_X" = true).', 'bool'),
  step_runner_image: s('Image of the step runner (FF_CONCRETE).'),
  kubernetes: table('Kubernetes executor settings.', KUBERNETES_FIELDS as Record<string, KeyDef>),
  labels: map('Labels of this runner (runner 18.x+).'),
  proxy_exec: b('Run the runner helper as a proxy for exec calls.'),
  use_slot_cgroups: b('Put each job slot in its own cgroup (autoscaler executors).'),
  slot_cgroup_template: s('Template of the per-slot cgroup path.'),
  strict_check_interval: b('Request jobs strictly every check_interval, not sooner after a job.'),
  job_status_final_update_retry_limit: i('Tries for the final job status update.'),
  referees: { kind: 'table', doc: 'Referees that add data to job results (metrics).', fields: {}, open: true },
  artifact: { kind: 'table', doc: 'Artifact upload settings.', fields: {}, open: true },
  monitoring: { kind: 'table', doc: 'Per-runner monitoring settings.', fields: {}, open: true },
  instance: { kind: 'table', doc: 'Instance executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  experimental: { kind: 'table', doc: 'Experimental per-runner settings.', fields: {}, open: true },
  // Other executors' tables: allowed (a file may hold several executors), not checked.
  docker: { kind: 'table', doc: 'Docker executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  machine: { kind: 'table', doc: 'Docker Machine settings (not used by the Kubernetes executor).', fields: {}, open: true },
  custom: { kind: 'table', doc: 'Custom executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  ssh: { kind: 'table', doc: 'SSH executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  parallels: { kind: 'table', doc: 'Parallels executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  virtualbox: { kind: 'table', doc: 'VirtualBox executor settings (not used by the Kubernetes executor).', fields: {}, open: true },
  autoscaler: { kind: 'table', doc: 'Fleeting autoscaler settings (not used by the Kubernetes executor).', fields: {}, open: true },
}

export const GLOBAL_FIELDS: Readonly<Record<string, KeyDef>> = {
  concurrent: i('Largest number of jobs all runners of this process run at once.', { default: 1 }),
  check_interval: i('Seconds between job requests (0: 3 s).', { default: 0 }),
  log_level: s('Log level.', { enum: ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] }),
  log_format: s('Log format.', { enum: ['runner', 'text', 'json'] }),
  listen_address: s('Address of the metrics/debug HTTP server.'),
  shutdown_timeout: i('Seconds to wait for jobs when shutting down.', { default: 30 }),
  connection_max_age: { kind: 'duration', doc: 'Longest life of a connection to GitLab.', default: '15m' },
  sentry_dsn: s('Sentry DSN for error reports.', { secret: true }),
  user: s('User the runner runs jobs as (shell executor).'),
  experimental: table('Experimental settings.', {}, { open: true }),
  machine: table('Process-wide Docker Machine settings (not used by the Kubernetes executor).', {}, { open: true }),
  labels: map('Labels of the runner process.'),
  session_server: table('Interactive web terminal server.', {
    listen_address: s('Address the session server listens on.'),
    advertise_address: s('Address advertised to GitLab.'),
    session_timeout: i('Seconds an idle session is kept.', { default: 1800 }),
  }),
  runners: tables('One table per runner.', RUNNER_FIELDS as Record<string, KeyDef>),
}

export const ROOT_DEF: KeyDef = { kind: 'table', doc: 'config.toml', fields: GLOBAL_FIELDS }

/** Looks up the definition of a key path (numbers step into arrays of tables). */
export function defAt(path: ReadonlyArray<string | number>): KeyDef | undefined {
  let def: KeyDef | undefined = ROOT_DEF
  for (const seg of path) {
    if (!def) return undefined
    if (typeof seg === 'number') {
      if (def.kind !== 'table[]') return undefined
      def = { kind: 'table', doc: def.doc, fields: def.fields, ...(def.open ? { open: true } : {}) }
      continue
    }
    if (def.kind === 'map') return { kind: def.values ?? 'string', doc: def.doc }
    def = def.fields?.[seg]
  }
  return def
}

/** Every key path of the schema (arrays shown as `[]`), for docs and round-trip tests. */
export function allKeyPaths(def: KeyDef = ROOT_DEF, prefix = ''): Array<{ path: string; def: KeyDef }> {
  const out: Array<{ path: string; def: KeyDef }> = []
  for (const [k, d] of Object.entries(def.fields ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k
    out.push({ path: p, def: d })
    if (d.kind === 'table') out.push(...allKeyPaths(d, p))
    if (d.kind === 'table[]') out.push(...allKeyPaths(d, `${p}[]`))
  }
  return out
}
