/**
 * The model of the runner's Kubernetes executor: from a runner configuration and a job, the objects
 * the runner creates, in the order it creates them (runner-facts.md §2, §3.2), for the 19.x line.
 * Plain objects typed as the client library's models; no I/O.
 */
import jsonPatch, { type Operation } from 'fast-json-patch'
import { parse as parseYaml } from 'yaml'
import type { V1PodDisruptionBudget } from '@kubernetes/client-node'
import type { V1Affinity, V1PodDNSConfig, V1Capabilities, V1Container, V1EnvVar, V1HostAlias, V1Pod, V1PodSecurityContext, V1ResourceRequirements, V1Secret, V1SecurityContext, V1Service, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import type { CiImage, CiJob, CiService } from '../ci/types.js'
import type { LoadedRunner } from '../config/types.js'
import { isObject, kube } from '../config/load.js'
import { parseQuantity, toJsRegExp } from '../config/values.js'
import { resolveFeatureFlags } from '../config/feature-flags.js'
import type { CatalogId } from '../catalog/ids.js'
import { isSecret, type Secret } from '../util/secret.js'
import { effectivePullPolicies, showPolicies } from './pull-policy.js'
import { SHELL_DETECT, containerCommand, isPowerShell, windowsPermissionsCommand } from './shell.js'
import { jobId as validateJobId, splitUser } from './user.js'
import { evaluatePodSecurity, podSecurityLevel, type PssLevel } from './pod-security.js'
import { DNS_LABEL, DNS_SUBDOMAIN, generateResourceName, makeRfc1123Compatible, projectUniqueName, sanitizeLabel, seededRandom, shortenToken } from './names.js'

export const RUNNER_VERSION = '19.4.0'
export const RUNNER_LINE = '19.x'

export interface RenderInput {
  runner: LoadedRunner
  job?: CiJob
  /** Overrides the namespace (e.g. -n); otherwise the config's, job overwrites applied. */
  namespace?: string
  jobId?: number
  projectId?: number
  concurrentId?: number
  /** The runner token to name objects with (its short form, as the runner does); default: the config's. */
  runnerToken?: Secret
  /** Variables the job sees besides its own (predefined CI_* variables). */
  variables?: Record<string, string>
  /** Random source for name suffixes (seeded by default so renders are reproducible). */
  random?: () => number
}

export interface RenderProblem {
  /** The runner's own wording. */
  message: string
  catalog: CatalogId
  /** True when the runner would fail the job in Prepare. */
  fatal: boolean
}

export interface CreationStep {
  kind: string
  name: string
  /** When the object gets its ownerReference to the pod. */
  owner: 'none' | 'with-create' | 'after-pod-create'
}

export interface Footprint {
  requests: Record<string, number>
  limits: Record<string, number>
}

export interface RenderedJob {
  runnerVersion: string
  namespace: string
  /** Set when namespace_per_job makes the runner create the namespace first. */
  createsNamespace?: string
  secrets: V1Secret[]
  services: V1Service[]
  pod: V1Pod
  /** The PodDisruptionBudget of pod_disruption_budget = true (created right after the pod, owned by it). */
  podDisruptionBudget?: V1PodDisruptionBudget
  /** Every object in creation order (pod included), apiVersion/kind set. */
  objects: Array<V1Secret | V1Service | V1Pod | V1PodDisruptionBudget>
  order: CreationStep[]
  /** Behaviours that depend on the runner version, settings that were ignored, and similar. */
  notes: string[]
  problems: RenderProblem[]
  /** Requests and limits of all containers (init containers count with their maximum), in base units. */
  footprint: Footprint
  /** The highest Pod Security Standards level (latest) the pod meets, and what keeps it from the next. */
  podSecurity: { level: PssLevel; notMet: Array<{ level: PssLevel; reasons: string[] }> }
}

const DEFAULT_CAP_DROP = ['NET_RAW']
const HELPER_REGISTRY = 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper'
const DNS: Record<string, string> = { '': 'ClusterFirst', none: 'None', default: 'Default', 'cluster-first': 'ClusterFirst', 'cluster-first-with-host-net': 'ClusterFirstWithHostNet' }

export { SHELL_DETECT }

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const strs = (v: unknown): string[] => (typeof v === 'string' ? (v ? [v] : []) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const map = (v: unknown): Record<string, string> => (isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {})
const expand = (s: string, vars: Record<string, string>): string => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '')

/** Go's doublestar glob (the runner's allowed_images syntax) as a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*'
        i++
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export function renderJob(input: RenderInput): RenderedJob {
  const { runner, job } = input
  const k = kube(runner)
  // Feature flags: defaults, [[runners]] environment, then the job's variables, with [runners.feature_flags] winning.
  const jobFlagVars = { ...(input.variables ?? {}), ...(job?.variables ?? {}) }
  const ff = resolveFeatureFlags(runner.settings, jobFlagVars).flags
  const notes: string[] = [`rendered as runner ${RUNNER_LINE} (${RUNNER_VERSION}) creates it`]
  const fromJob = Object.keys(ff).filter((name) => ff[name] !== runner.featureFlags[name])
  if (fromJob.length > 0) notes.push(`feature flags set by the job's variables: ${fromJob.map((n) => `${n}=${String(ff[n])}`).join(', ')}`)
  const problems: RenderProblem[] = []
  const problem = (message: string, catalog: CatalogId, fatal = true): void => void problems.push({ message, catalog, fatal })
  const random = input.random ?? seededRandom(input.jobId ?? 1)
  const jobId = input.jobId ?? 1
  const projectId = input.projectId ?? 1
  const concurrent = String(input.concurrentId ?? 0)
  // The runner always sets these for a job; names such as PVC-${CI_CONCURRENT_ID} expand with them.
  const base = { CI_JOB_ID: String(jobId), CI_PROJECT_ID: String(projectId), CI_CONCURRENT_ID: concurrent, CI_CONCURRENT_PROJECT_ID: concurrent }
  // [[runners]] environment entries are job variables too (below the job's own).
  const runnerEnv = Object.fromEntries(strs(runner.settings.environment).filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  const vars: Record<string, string> = { ...base, ...(input.variables ?? {}), ...runnerEnv, ...(job?.variables ?? {}) }
  const attach = !ff.FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY
  // The node selector after KUBERNETES_NODE_SELECTOR_* overwrites: it also picks the helper image's OS and architecture.
  const nodeSelector = { ...map(k.node_selector), ...prefixedOverwrites(vars, 'KUBERNETES_NODE_SELECTOR_', str(k.node_selector_overwrite_allowed), problem) }
  const os = nodeSelector['kubernetes.io/os'] || 'linux'
  if (os !== 'linux' && os !== 'windows') problem(`prepare helper image: unsupported OSType ${JSON.stringify(os)}`, 'config-invalid')
  const windows = os === 'windows'
  const shell = str(runner.settings.shell) ?? (windows ? 'pwsh' : 'bash')

  // Overwrites from job variables, each only within its allow-list (runner-facts §1.5, §3.1).
  const overwrite = (variable: string, allowedKey: string): string | undefined => {
    // The runner expands the value with the job's variables before matching it (namespace-$CI_CONCURRENT_ID).
    const value = vars[variable] === undefined ? undefined : expand(vars[variable], vars)
    const allowed = str(k[allowedKey])
    if (value === undefined || value === '' || !allowed) return undefined
    if (!safeMatch(allowed, value)) {
      problem(`couldn't prepare overwrites: provided value ${JSON.stringify(value)} does not match ${JSON.stringify(allowed)}`, 'namespace-overwrite-not-allowed')
      return undefined
    }
    return value
  }

  let namespace = input.namespace ?? overwrite('KUBERNETES_NAMESPACE_OVERWRITE', 'namespace_overwrite_allowed') ?? str(k.namespace) ?? ''
  let createsNamespace: string | undefined
  if (k.namespace_per_job === true && !input.namespace) {
    namespace = `ci-job-${jobId}`
    createsNamespace = namespace
  }
  if (!namespace) {
    namespace = 'default'
    notes.push("Namespace is empty, therefore assuming 'default'.")
  }
  const serviceAccount = overwrite('KUBERNETES_SERVICE_ACCOUNT_OVERWRITE', 'service_account_overwrite_allowed') ?? str(k.service_account)

  // Names.
  const tokenValue = input.runnerToken ?? runner.settings.token
  const token = isSecret(tokenValue) ? tokenValue.reveal() : typeof tokenValue === 'string' ? tokenValue : ''
  const short = shortenToken(token)
  const unique = projectUniqueName(short, projectId, input.concurrentId ?? 0)
  const podName = generateResourceName(unique, random)

  // Images and services.
  const helperImage = str(k.helper_image) ? expand(k.helper_image as string, vars) : defaultHelperImage(k, nodeSelector, shell, windows, ff, vars)
  const jobImage: CiImage | undefined = job?.image?.name ? job.image : str(k.image) ? { name: k.image as string } : undefined
  if (!jobImage) problem('check defaults error: no image specified and no default set in config', 'image-not-allowed')
  const buildImage = jobImage ? expand(jobImage.name, vars) : ''
  checkAllowed(buildImage, strs(k.allowed_images), [str(k.image) ?? '', helperImage], 'images', 'image-not-allowed', problem)
  const services: CiService[] = [
    ...(Array.isArray(k.services) ? (k.services as Array<Record<string, unknown>>) : [])
      .filter((s) => str(s.name))
      .map((s) => ({ name: s.name as string, ...(str(s.alias) ? { alias: s.alias as string } : {}), command: strs(s.command), entrypoint: strs(s.entrypoint), variables: Object.fromEntries(strs(s.environment).map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)])) })),
    ...(job?.services ?? []),
  ]
  for (const s of services) checkAllowed(expand(s.name, vars), strs(k.allowed_services), [], 'services', 'service-not-allowed', problem)

  // Pull policies.
  const allowedPolicies = strs(k.allowed_pull_policies)
  const configPolicies = strs(k.pull_policy)
  const policyFor = (container: string, asked: string[] | undefined): string | undefined => {
    const d = effectivePullPolicies(asked, configPolicies, allowedPolicies)
    const bad = d.unsupported[0]
    if (bad) {
      const message =
        bad.key === 'allowed_pull_policies' || (bad.key === 'pull_policy' && allowedPolicies.length === 0)
          ? `getting allowed pull policies: ${bad.key} config: unsupported pull policy: ${JSON.stringify(bad.value)}`
          : bad.key === 'pull_policy'
            ? `converting pull policy for container ${JSON.stringify(container)}: pull_policy config: unsupported pull policy: ${JSON.stringify(bad.value)}`
            : `converting pull policy for container ${JSON.stringify(container)}: conversion to Kubernetes policy: unsupported pull policy: ${JSON.stringify(bad.value)}`
      if (!problems.some((p) => p.message === message)) problem(message, 'config-invalid')
      return undefined
    }
    if (d.error) {
      problem(`invalid pull policy for container ${JSON.stringify(container)}: ${d.error}`, 'error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies')
      return undefined
    }
    // The helper and init-permissions containers share the build container's policies.
    if (d.effective.length > 1 && container !== 'helper') notes.push(`Using effective pull policy of ${showPolicies(d.effective)} for container ${container}${container === 'build' ? ' (and helper, init-permissions)' : ''}: the runner tries ${d.effective[0]} first and, when that pull fails, recreates the pod with the next one`)
    return d.effective[0] || undefined
  }

  // Resources, with KUBERNETES_* overwrites up to *_overwrite_max_allowed.
  const resources = (prefix: '' | 'service_' | 'helper_' | 'pod_', variables: Record<string, string> = vars): V1ResourceRequirements | undefined => {
    const req: Record<string, string> = {}
    const lim: Record<string, string> = {}
    for (const [res, kname] of [['cpu', 'cpu'], ['memory', 'memory'], ['ephemeral_storage', 'ephemeral-storage']] as const) {
      for (const [kind, target] of [['request', req], ['limit', lim]] as const) {
        const key = `${prefix}${res}_${kind}`
        let value = str(k[key])
        const over = variables[`KUBERNETES_${key.toUpperCase()}`]
        const max = str(k[`${key}_overwrite_max_allowed`])
        if (over && max) {
          const o = parseQuantity(over)
          const m = parseQuantity(max)
          if (o && m && o.value > m.value) problem(`couldn't prepare overwrites: invalid build limits specified: the resource ${JSON.stringify(kname)} requested ${JSON.stringify(over)} is higher than limit allowed ${JSON.stringify(max)}`, 'config-invalid')
          else value = over
        }
        if (value) target[kname] = value
      }
    }
    if (Object.keys(req).length === 0 && Object.keys(lim).length === 0) return undefined
    return { ...(Object.keys(req).length ? { requests: req } : {}), ...(Object.keys(lim).length ? { limits: lim } : {}) }
  }

  // Security contexts (runner-facts §2.10).
  const capabilities = (containerCaps: unknown): V1Capabilities | undefined => {
    const caps = new Map<string, boolean>()
    if (!windows) for (const c of DEFAULT_CAP_DROP) caps.set(c, false)
    for (const c of strs(k.cap_add)) caps.set(c, true)
    for (const c of strs(k.cap_drop)) caps.set(c, false)
    let add = [...caps].filter(([, v]) => v).map(([c]) => c)
    let drop = [...caps].filter(([, v]) => !v).map(([c]) => c)
    if (isObject(containerCaps)) {
      if (Array.isArray(containerCaps.add)) add = strs(containerCaps.add)
      if (Array.isArray(containerCaps.drop)) drop = strs(containerCaps.drop)
    }
    if (add.length === 0 && drop.length === 0) return undefined
    return { ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) }
  }
  const podSc = podSecurityContext(k.pod_security_context)
  const allowedUsers = strs(k.allowed_users)
  const allowedGroups = strs(k.allowed_groups)
  /** A container's security context with the job's (or service's) `kubernetes: user` where neither context sets the ID. */
  const securityContextFor = (key: string, container: string, jobUser: string | undefined): V1SecurityContext | undefined => {
    const sc = securityContext(key) ?? {}
    const { uid, gid } = splitUser(jobUser ? expand(jobUser, vars) : '')
    for (const [kind, value, field] of [['user', uid, 'runAsUser'], ['group', gid, 'runAsGroup']] as const) {
      if (sc[field] !== undefined) {
        if (value !== '') notes.push(`Overriding ${kind} for container ${JSON.stringify(container)} to ${JSON.stringify(value)} is not allowed: ${kind} is set to ${sc[field]} in ${isObject(k[key]) && typeof (k[key] as Record<string, unknown>)[`run_as_${kind}`] === 'number' ? 'container' : 'pod'} security context`)
        continue
      }
      const r = validateJobId(value, kind, kind === 'user' ? allowedUsers : allowedGroups, container)
      if (r.warning) problem(r.warning, 'config-invalid', false)
      if (r.id !== undefined) sc[field] = r.id
    }
    return Object.keys(sc).length > 0 ? sc : undefined
  }
  const securityContext = (key: string): V1SecurityContext | undefined => {
    const c = isObject(k[key]) ? (k[key] as Record<string, unknown>) : {}
    const sc: V1SecurityContext = {}
    const caps = capabilities(c.capabilities)
    if (caps) sc.capabilities = caps
    const privileged = typeof c.privileged === 'boolean' ? c.privileged : typeof k.privileged === 'boolean' ? k.privileged : undefined
    if (privileged !== undefined) sc.privileged = privileged
    const ape = typeof c.allow_privilege_escalation === 'boolean' ? c.allow_privilege_escalation : typeof k.allow_privilege_escalation === 'boolean' ? k.allow_privilege_escalation : undefined
    if (ape !== undefined) sc.allowPrivilegeEscalation = ape
    const uid = typeof c.run_as_user === 'number' ? c.run_as_user : podSc?.runAsUser
    const gid = typeof c.run_as_group === 'number' ? c.run_as_group : podSc?.runAsGroup
    if (uid !== undefined) sc.runAsUser = uid
    if (gid !== undefined) sc.runAsGroup = gid
    if (typeof c.run_as_non_root === 'boolean') sc.runAsNonRoot = c.run_as_non_root
    if (typeof c.read_only_root_filesystem === 'boolean') sc.readOnlyRootFilesystem = c.read_only_root_filesystem
    if (str(c.selinux_type)) sc.seLinuxOptions = { type: c.selinux_type as string }
    if (c.proc_mount === 'default' || c.proc_mount === 'unmasked') sc.procMount = c.proc_mount === 'default' ? 'Default' : 'Unmasked'
    const seccomp = profile(c.seccomp_profile)
    if (seccomp) sc.seccompProfile = seccomp
    const apparmor = profile(c.app_armor_profile)
    if (apparmor) sc.appArmorProfile = apparmor
    return Object.keys(sc).length > 0 ? sc : undefined
  }

  // Volumes and mounts (runner-facts §2.7).
  const buildsDir = str(runner.settings.builds_dir) ?? (windows ? 'C:\\builds' : '/builds')
  const scriptsDir = `${(str(k.scripts_base_dir) ?? '').replace(/[/\\]+$/, '')}/scripts-${projectId}-${jobId}`
  const logsDir = `${(str(k.logs_base_dir) ?? '').replace(/[/\\]+$/, '')}/logs-${projectId}-${jobId}`
  const { volumes: userVolumes, mounts: userMounts } = configVolumes(k, vars)
  const buildsDirMounted = userMounts.some((m) => m.mountPath === buildsDir)
  const mounts: V1VolumeMount[] = []
  const dumbInit = Boolean(ff.FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR) && !windows
  if (attach || dumbInit) mounts.push({ name: 'scripts', mountPath: scriptsDir })
  if (attach) mounts.push({ name: 'logs', mountPath: logsDir })
  mounts.push(...userMounts)
  if (!buildsDirMounted) mounts.push({ name: 'repo', mountPath: buildsDir })
  const volumes: V1Volume[] = [...userVolumes, ...(buildsDirMounted ? [] : [{ name: 'repo', emptyDir: {} }])]
  if (attach || dumbInit) volumes.push({ name: 'scripts', emptyDir: {} })
  if (attach) volumes.push({ name: 'logs', emptyDir: {} })

  const lifecycle = containerLifecycle(k.container_lifecycle)
  const shellCommand = containerCommand(shell, dumbInit ? { scriptsDir } : undefined)
  const withCommon = (c: V1Container): V1Container => ({ ...c, ...(lifecycle ? { lifecycle } : {}) })

  const env: V1EnvVar[] = Object.entries(vars)
    .filter(([name]) => !name.startsWith('KUBERNETES_') || name === 'KUBERNETES_SERVICE_HOST')
    .map(([name, value]) => ({ name, value: value.replaceAll('$', '$$$$') }))
  if (Object.values(vars).some((v) => v.includes('$'))) notes.push('every $ in a variable value is written as $$ in the container env (runner 19.0+)')

  const buildPolicy = policyFor('build', jobImage?.pull_policy)
  // Declared ports: containerPorts, plus a proxy Service per alias (or per container) for the session proxy.
  const proxies: Array<{ name: string; ports: number[] }> = []
  const portsOf = (ports: CiImage['ports']): number[] => (ports ?? []).map((p) => p.number)
  if (portsOf(jobImage?.ports).length > 0) proxies.push({ name: 'build', ports: portsOf(jobImage?.ports) })
  const buildSc = securityContextFor('build_container_security_context', 'build', jobImage?.kubernetes?.user)
  const build: V1Container = withCommon({
    name: 'build',
    image: buildImage,
    ...(portsOf(jobImage?.ports).length > 0 ? { ports: portsOf(jobImage?.ports).map((containerPort) => ({ containerPort })) } : {}),
    ...(buildPolicy ? { imagePullPolicy: buildPolicy } : {}),
    ...(ff.FF_KUBERNETES_HONOR_ENTRYPOINT ? { args: shellCommand } : { command: shellCommand }),
    env,
    stdin: true,
    volumeMounts: mounts,
    ...(resources('') ? { resources: resources('') } : {}),
    ...(buildSc ? { securityContext: buildSc } : {}),
  })
  const helperPolicy = policyFor('helper', jobImage?.pull_policy)
  const helper: V1Container = withCommon({
    name: 'helper',
    image: helperImage,
    ...(helperPolicy ? { imagePullPolicy: helperPolicy } : {}),
    command: shellCommand,
    stdin: true,
    volumeMounts: mounts,
    ...(resources('helper_') ? { resources: resources('helper_') } : {}),
    ...(securityContext('helper_container_security_context') ? { securityContext: securityContext('helper_container_security_context') } : {}),
  })

  const usedNames = new Set(['build', 'helper'])
  let fallback = 0
  const serviceContainers: V1Container[] = services.map((s) => {
    const aliases = (s.alias ?? '').split(/[\s,]+/).filter(Boolean)
    let name = aliases.find((a) => DNS_LABEL.test(a) && a.length <= 63 && !usedNames.has(a))
    if (!name) name = `svc-${fallback++}`
    usedNames.add(name)
    const policy = policyFor(name, s.pull_policy)
    const ports = portsOf(s.ports)
    if (ports.length > 0) for (const alias of aliases.length > 0 ? aliases : [`proxy-${name}`]) proxies.push({ name: alias, ports })
    const svcVars = Object.fromEntries(Object.entries(s.variables ?? {}).map(([kk, v]) => [kk, expand(v, vars)]))
    const svcSc = securityContextFor('service_container_security_context', name, s.kubernetes?.user)
    return withCommon({
      name,
      image: expand(s.name, vars),
      ...(ports.length > 0 ? { ports: ports.map((containerPort) => ({ containerPort })) } : {}),
      ...(policy ? { imagePullPolicy: policy } : {}),
      ...(s.entrypoint && s.entrypoint.length ? { command: s.entrypoint } : {}),
      ...(s.command && s.command.length ? { args: s.command } : {}),
      env: [...env, ...Object.entries(svcVars).map(([n, v]) => ({ name: n, value: v.replaceAll('$', '$$$$') }))],
      stdin: true,
      volumeMounts: mounts,
      ...(resources('service_', { ...vars, ...svcVars }) ? { resources: resources('service_', { ...vars, ...svcVars }) } : {}),
      ...(svcSc ? { securityContext: svcSc } : {}),
    })
  })
  serviceContainers.sort((a, b) => a.name.localeCompare(b.name))

  const initContainers: V1Container[] = []
  if (ff.FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR) {
    initContainers.push({ name: 'init-build-uid-gid-collector', image: buildImage, command: ['sh', '-c', `> ${buildsDir}/.gitlab-build-uid-gid`], volumeMounts: mounts, ...(buildSc ? { securityContext: buildSc } : {}) })
  }
  if (attach || dumbInit) {
    const initSc = securityContext('init_permissions_container_security_context')
    const linux = [...(attach ? [`touch ${logsDir}/output.log && (chmod 777 ${logsDir}/output.log || exit 0)`] : []), ...(dumbInit ? [`cp /usr/bin/dumb-init ${scriptsDir}`] : [])]
    const command = windows ? windowsPermissionsCommand(isPowerShell(shell) ? shell : 'pwsh', logsDir, buildsDir) : ['sh', '-c', linux.join(';\n')]
    initContainers.push({
      name: 'init-permissions',
      image: helperImage,
      ...(helperPolicy ? { imagePullPolicy: helperPolicy } : {}),
      command,
      volumeMounts: mounts,
      ...(resources('helper_') ? { resources: resources('helper_') } : {}),
      ...(initSc ? { securityContext: initSc } : {}),
    })
  }

  // Labels and annotations (runner-facts §2.8).
  const labels: Record<string, string> = {
    pod: sanitizeLabel(unique),
    'project.runner.gitlab.com/id': sanitizeLabel(String(projectId)),
    'project.runner.gitlab.com/namespace-id': sanitizeLabel(vars.CI_PROJECT_NAMESPACE_ID ?? ''),
    'project.runner.gitlab.com/name': sanitizeLabel(vars.CI_PROJECT_NAME ?? ''),
    'project.runner.gitlab.com/namespace': sanitizeLabel(vars.CI_PROJECT_NAMESPACE ?? ''),
    'project.runner.gitlab.com/root-namespace': sanitizeLabel(vars.CI_PROJECT_ROOT_NAMESPACE ?? vars.CI_PROJECT_NAMESPACE ?? ''),
    'project.runner.gitlab.com/root-namespace-id': sanitizeLabel(vars.CI_PROJECT_ROOT_NAMESPACE_ID ?? ''),
    'job.runner.gitlab.com/pod': sanitizeLabel(unique),
    'manager.runner.gitlab.com/name': sanitizeLabel(runner.name),
    'manager.runner.gitlab.com/id-short': sanitizeLabel(short),
  }
  const reserved = /^(.*\.)?runner\.gitlab\.com(\/.*|$)/i
  const userLabels = { ...map(k.pod_labels), ...prefixedOverwrites(vars, 'KUBERNETES_POD_LABELS_', str(k.pod_labels_overwrite_allowed), problem) }
  for (const [key, v] of Object.entries(userLabels)) {
    if (reserved.test(key)) notes.push(`not setting pod label ${JSON.stringify(key)}: labels in the runner.gitlab.com namespace cannot be overwritten`)
    else labels[key] = sanitizeLabel(expand(v, vars))
  }
  const timeout = job?.timeout ?? 3600
  const annotations: Record<string, string> = {
    'job.runner.gitlab.com/id': String(jobId),
    'job.runner.gitlab.com/url': jobUrl(vars.CI_REPOSITORY_URL ?? vars.CI_PROJECT_URL ?? '', jobId),
    'job.runner.gitlab.com/sha': vars.CI_COMMIT_SHA ?? '',
    'job.runner.gitlab.com/before_sha': vars.CI_COMMIT_BEFORE_SHA ?? '',
    'job.runner.gitlab.com/ref': vars.CI_COMMIT_REF_NAME ?? '',
    'job.runner.gitlab.com/name': job?.name ?? vars.CI_JOB_NAME ?? '',
    'job.runner.gitlab.com/timeout': goDuration(timeout),
    'project.runner.gitlab.com/id': String(projectId),
    ...Object.fromEntries(Object.entries(map(k.pod_annotations)).map(([a, v]) => [a, expand(v, vars)])),
    ...prefixedOverwrites(vars, 'KUBERNETES_POD_ANNOTATIONS_', str(k.pod_annotations_overwrite_allowed), problem),
  }

  // Scheduling and DNS.
  const tolerations = podTolerations({ ...map(k.node_tolerations), ...tolerationOverwrites(vars, str(k.node_tolerations_overwrite_allowed), problem) })
  // Pod-level requests and limits (pod_cpu_*, pod_memory_*; runner 18.10+), with KUBERNETES_POD_* overwrites.
  const podResources = resources('pod_')
  if (podResources) notes.push('pod-level resources (spec.resources) need the PodLevelResources feature of Kubernetes 1.32+; older API servers drop the field')
  const dnsPolicyName = str(k.dns_policy) ?? ''
  const dnsPolicy = DNS[dnsPolicyName]
  if (dnsPolicy === undefined) notes.push(`falling back to cluster's default policy: unsupported kubernetes-dns-policy: ${JSON.stringify(dnsPolicyName)}`)

  // hostAliases: services (sorted by container name) first, then host_aliases (runner-facts §2.9).
  const hostnames: string[] = []
  const byContainer = services.map((s, i) => ({ s, c: serviceContainers.find((c) => c.image === expand(s.name, vars)) ?? serviceContainers[i]! }))
  byContainer.sort((a, b) => a.c.name.localeCompare(b.c.name))
  for (const { s } of byContainer) {
    // Services that declare ports are reached through their proxy Service, not a host alias.
    if ((s.ports ?? []).length > 0) continue
    for (const h of imageAliases(expand(s.name, vars))) if (!hostnames.includes(h)) hostnames.push(h)
    for (const a of (s.alias ?? '').split(/[\s,]+/).filter(Boolean)) {
      if (!DNS_SUBDOMAIN.test(a)) problem(`provided host alias ${a} for service ${s.name} is invalid DNS. a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`, 'config-invalid')
      else if (!hostnames.includes(a)) hostnames.push(a)
    }
  }
  const hostAliases: V1HostAlias[] = [
    ...(hostnames.length ? [{ ip: '127.0.0.1', hostnames }] : []),
    ...(Array.isArray(k.host_aliases) ? (k.host_aliases as Array<Record<string, unknown>>).map((h) => ({ ip: String(h.ip ?? ''), hostnames: strs(h.hostnames) })) : []),
  ]

  // Registry credentials secret (runner-facts §2.16): only when the job has registry auth.
  const secrets: V1Secret[] = []
  const dockerAuth = vars.DOCKER_AUTH_CONFIG
  if (dockerAuth) {
    const secretName = generateResourceName(unique, random)
    secrets.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace },
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': Buffer.from(dockercfgFrom(dockerAuth)).toString('base64') },
    })
  }
  const imagePullSecrets = k.use_service_account_image_pull_secrets === true ? [] : [...strs(k.image_pull_secrets), ...secrets.map((s) => s.metadata!.name!)].map((name) => ({ name }))

  let pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace, labels, annotations },
    spec: {
      restartPolicy: 'Never',
      ...(initContainers.length ? { initContainers } : {}),
      containers: [build, helper, ...serviceContainers],
      volumes,
      ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      ...(affinity(k.affinity) ? { affinity: affinity(k.affinity) } : {}),
      ...(dnsPolicy ? { dnsPolicy } : {}),
      ...(dnsConfig(k.dns_config) ? { dnsConfig: dnsConfig(k.dns_config) } : {}),
      ...(hostAliases.length ? { hostAliases } : {}),
      ...(imagePullSecrets.length ? { imagePullSecrets } : {}),
      ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
      ...(typeof k.automount_service_account_token === 'boolean' ? { automountServiceAccountToken: k.automount_service_account_token } : {}),
      ...(typeof k.pod_termination_grace_period_seconds === 'number' ? { terminationGracePeriodSeconds: k.pod_termination_grace_period_seconds } : {}),
      ...(ff.FF_USE_POD_ACTIVE_DEADLINE_SECONDS ? { activeDeadlineSeconds: timeout + 1 } : {}),
      ...(str(k.runtime_class_name) ? { runtimeClassName: k.runtime_class_name as string } : {}),
      ...(str(k.priority_class_name) ? { priorityClassName: k.priority_class_name as string } : {}),
      ...(str(k.scheduler_name) ? { schedulerName: k.scheduler_name as string } : {}),
      ...(podSc ? { securityContext: podSc } : {}),
      ...(podResources ? { resources: podResources } : {}),
    },
  }
  if (ff.FF_USE_POD_ACTIVE_DEADLINE_SECONDS) notes.push(`activeDeadlineSeconds = job timeout + 1 (FF_USE_POD_ACTIVE_DEADLINE_SECONDS, on by default)`)
  if (Array.isArray(k.pod_spec) && k.pod_spec.length > 0) {
    if (!ff.FF_USE_ADVANCED_POD_SPEC_CONFIGURATION) notes.push('pod_spec patches ignored: FF_USE_ADVANCED_POD_SPEC_CONFIGURATION is off')
    else pod = applyPodSpecPatches(pod, k.pod_spec as Array<Record<string, unknown>>, notes, problem)
  }

  // Proxy Services for images and services that declare ports (runner-facts §2.1, §2.15): ClusterIP,
  // selecting the pod by its job.runner.gitlab.com/pod label, created right after the pod with an
  // ownerReference to it (the pod's uid only exists then, so the printed objects leave it out).
  const servicesOut: V1Service[] = proxies.map((p) => {
    const base = makeRfc1123Compatible(p.name)
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: generateResourceName(base, random), namespace },
      spec: { type: 'ClusterIP', selector: { 'job.runner.gitlab.com/pod': sanitizeLabel(unique) }, ports: p.ports.map((n) => ({ name: `${base}-${n}`, port: n, targetPort: n })) },
    }
  })
  if (servicesOut.length > 0) notes.push('proxy Services are created after the pod, each with an ownerReference to it (left out here: it needs the uid the API server gives the pod)')

  // pod_disruption_budget (runner 18.11+): minAvailable 1 over the job's pod, created right after the pod
  // with an ownerReference to it, so drains and upgrades do not evict a running job.
  const pdb: V1PodDisruptionBudget | undefined =
    k.pod_disruption_budget === true
      ? { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: `${podName}-pdb`, namespace }, spec: { minAvailable: 1, selector: { matchLabels: { 'job.runner.gitlab.com/pod': sanitizeLabel(unique) } } } }
      : undefined
  if (pdb) notes.push(`PodDisruptionBudget ${pdb.metadata!.name} (minAvailable 1) is created after the pod, with an ownerReference to it`)

  const order: CreationStep[] = [
    ...(createsNamespace ? [{ kind: 'Namespace', name: createsNamespace, owner: 'none' as const }] : []),
    ...secrets.map((s) => ({ kind: 'Secret', name: s.metadata!.name!, owner: 'after-pod-create' as const })),
    { kind: 'Pod', name: podName, owner: 'none' },
    ...(pdb ? [{ kind: 'PodDisruptionBudget', name: pdb.metadata!.name!, owner: 'with-create' as const }] : []),
    ...servicesOut.map((s) => ({ kind: 'Service', name: s.metadata!.name!, owner: 'with-create' as const })),
  ]
  if (secrets.length) notes.push('the credentials secret is created before the pod and gets its ownerReference only after the pod exists (runner 14.2+): a failed pod create leaves it behind')

  // Containers share mount and env lists while being built; the result owns independent copies.
  pod = structuredClone(pod)
  return {
    runnerVersion: RUNNER_VERSION,
    namespace,
    ...(createsNamespace ? { createsNamespace } : {}),
    secrets,
    services: servicesOut,
    pod,
    ...(pdb ? { podDisruptionBudget: pdb } : {}),
    objects: [...secrets, pod, ...(pdb ? [pdb] : []), ...servicesOut],
    order,
    notes,
    problems,
    footprint: footprintOf(pod),
    podSecurity: podSecuritySummary(pod),
  }
}

function podSecuritySummary(pod: V1Pod): RenderedJob['podSecurity'] {
  const level = podSecurityLevel(pod)
  const higher = (['baseline', 'restricted'] as const).filter((l) => (l === 'baseline' ? level === 'privileged' : level !== 'restricted'))
  return { level, notMet: higher.map((l) => ({ level: l, reasons: evaluatePodSecurity(pod, l).map((v) => v.reason) })) }
}

/**
 * The job's web URL as the runner builds it (Job.JobURL): the repository URL without credentials, query or
 * fragment, a trailing .git dropped, then /-/jobs/<id>. An empty repository URL gives "/-/jobs/<id>".
 */
export function jobUrl(repoUrl: string, jobId: number): string {
  let clean = repoUrl
  try {
    const u = new URL(repoUrl)
    u.username = ''
    u.password = ''
    u.search = ''
    u.hash = ''
    clean = u.toString()
  } catch {
    // Not a URL (empty, or a local path): used as it is.
  }
  return `${clean.replace(/\.git$/, '')}/-/jobs/${jobId}`
}

function safeMatch(pattern: string, value: string): boolean {
  try {
    return toJsRegExp(pattern).test(value)
  } catch {
    return false
  }
}

function checkAllowed(image: string, allowed: string[], internal: string[], what: 'images' | 'services', catalog: CatalogId, problem: (m: string, c: CatalogId) => void): void {
  if (!image || allowed.length === 0 || internal.includes(image)) return
  if (allowed.some((g) => globToRegExp(g).test(image))) return
  problem(`disallowed image: The ${JSON.stringify(image)} image is not present on list of allowed ${what}: ${allowed.map((a) => `- ${a}`).join(' ')}`, catalog)
}

function prefixedOverwrites(vars: Record<string, string>, prefix: string, allowed: string | undefined, problem: (m: string, c: CatalogId) => void): Record<string, string> {
  const out: Record<string, string> = {}
  if (!allowed) return out
  for (const [name, value] of Object.entries(vars)) {
    if (!name.startsWith(prefix)) continue
    const eq = value.indexOf('=')
    if (eq < 0 || !safeMatch(allowed, value)) {
      problem(`couldn't prepare overwrites: provided value ${JSON.stringify(value)} does not match ${JSON.stringify(eq < 0 ? 'k=v' : allowed)}`, 'config-invalid')
      continue
    }
    out[value.slice(0, eq)] = value.slice(eq + 1)
  }
  return out
}

/** KUBERNETES_NODE_TOLERATIONS_* = "key[=value][:effect]", each within node_tolerations_overwrite_allowed; a job's entry replaces the config's for the same key. */
function tolerationOverwrites(vars: Record<string, string>, allowed: string | undefined, problem: (m: string, c: CatalogId) => void): Record<string, string> {
  const out: Record<string, string> = {}
  if (!allowed) return out
  for (const [name, value] of Object.entries(vars)) {
    if (!name.startsWith('KUBERNETES_NODE_TOLERATIONS_')) continue
    if (!safeMatch(allowed, value)) {
      problem(`couldn't prepare overwrites: provided value ${JSON.stringify(value)} does not match ${JSON.stringify(allowed)}`, 'config-invalid')
      continue
    }
    const colon = value.indexOf(':')
    out[colon < 0 ? value : value.slice(0, colon)] = colon < 0 ? '' : value.slice(colon + 1)
  }
  return out
}

/** Architectures as the helper image tags name them (helperimage's linux/windows info). */
const HELPER_ARCH: Record<string, string> = { amd64: 'x86_64', x86_64: 'x86_64', arm64: 'arm64', aarch64: 'arm64', arm: 'arm', armv6l: 'arm', armv7l: 'arm' }

function defaultHelperImage(k: Record<string, unknown>, sel: Record<string, string>, shell: string, windows: boolean, ff: Record<string, boolean>, vars: Record<string, string>): string {
  const asked = sel['kubernetes.io/arch'] || 'amd64'
  const arch = HELPER_ARCH[asked] ?? asked
  const rev = `v${RUNNER_VERSION}`
  if (windows) {
    const build = sel['node.kubernetes.io/windows-build'] ?? ''
    const base = build.startsWith('10.0.17763') ? '1809' : build.startsWith('10.0.26100') ? '24H2' : '21H2'
    return `${HELPER_REGISTRY}:${arch}-${rev}-servercore${base}`
  }
  // An explicit helper_image_flavor wins over FF_CONCRETE.
  const flavor = str(k.helper_image_flavor) ? expand(k.helper_image_flavor as string, vars) : ff.FF_CONCRETE ? 'concrete' : 'alpine'
  const pwsh = shell === 'pwsh' ? '-pwsh' : ''
  return `${HELPER_REGISTRY}:${flavor === 'alpine' ? '' : `${flavor}-`}${arch}-${rev}${pwsh}`
}

function podSecurityContext(v: unknown): V1PodSecurityContext | undefined {
  if (!isObject(v)) return undefined
  const sc: V1PodSecurityContext = {}
  if (typeof v.fs_group === 'number') sc.fsGroup = v.fs_group
  if (typeof v.run_as_group === 'number') sc.runAsGroup = v.run_as_group
  if (typeof v.run_as_user === 'number') sc.runAsUser = v.run_as_user
  if (typeof v.run_as_non_root === 'boolean') sc.runAsNonRoot = v.run_as_non_root
  if (Array.isArray(v.supplemental_groups)) sc.supplementalGroups = v.supplemental_groups.map(Number)
  if (str(v.selinux_type)) sc.seLinuxOptions = { type: v.selinux_type as string }
  const seccomp = profile(v.seccomp_profile)
  if (seccomp) sc.seccompProfile = seccomp
  const apparmor = profile(v.app_armor_profile)
  if (apparmor) sc.appArmorProfile = apparmor
  return Object.keys(sc).length > 0 ? sc : undefined
}

function profile(v: unknown): { type: string; localhostProfile?: string } | undefined {
  if (!isObject(v) || !['RuntimeDefault', 'Unconfined', 'Localhost'].includes(String(v.type))) return undefined
  if (v.type === 'Localhost' && !str(v.localhost_profile)) return undefined
  return { type: String(v.type), ...(v.type === 'Localhost' ? { localhostProfile: String(v.localhost_profile) } : {}) }
}

function configVolumes(k: Record<string, unknown>, vars: Record<string, string>): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const v = isObject(k.volumes) ? k.volumes : {}
  const list = (t: string): Array<Record<string, unknown>> => (Array.isArray(v[t]) ? (v[t] as Array<Record<string, unknown>>) : [])
  const volumes: V1Volume[] = []
  const mounts: V1VolumeMount[] = []
  const mount = (x: Record<string, unknown>, name: string): void => {
    mounts.push({
      name,
      mountPath: expand(String(x.mount_path ?? ''), vars),
      ...(str(x.sub_path) ? { subPath: expand(x.sub_path as string, vars) } : {}),
      ...(x.read_only === true ? { readOnly: true } : {}),
      ...(str(x.mount_propagation) ? { mountPropagation: x.mount_propagation as string } : {}),
    })
  }
  const items = (x: Record<string, unknown>): Array<{ key: string; path: string }> | undefined => (isObject(x.items) ? Object.entries(x.items).map(([key, p]) => ({ key, path: String(p) })) : undefined)
  for (const x of list('host_path')) {
    volumes.push({ name: String(x.name), hostPath: { path: str(x.host_path) ?? String(x.mount_path ?? '') } })
    mount(x, String(x.name))
  }
  for (const x of list('secret')) {
    const it = items(x)
    volumes.push({ name: String(x.name), secret: { secretName: String(x.name), ...(it ? { items: it } : {}) } })
    mount(x, String(x.name))
  }
  const pvcNames = new Set<string>()
  for (const x of list('pvc')) {
    const name = expand(String(x.name), vars)
    if (!pvcNames.has(name)) volumes.push({ name, persistentVolumeClaim: { claimName: name, ...(x.read_only === true ? { readOnly: true } : {}) } })
    pvcNames.add(name)
    mount(x, name)
  }
  for (const x of list('config_map')) {
    const it = items(x)
    volumes.push({ name: String(x.name), configMap: { name: String(x.name), ...(it ? { items: it } : {}) } })
    mount(x, String(x.name))
  }
  for (const x of list('empty_dir')) {
    const sizeOk = str(x.size_limit) && parseQuantity(x.size_limit as string)
    volumes.push({ name: String(x.name), emptyDir: { ...(str(x.medium) ? { medium: x.medium as string } : {}), ...(sizeOk ? { sizeLimit: x.size_limit as string } : {}) } })
    mount(x, String(x.name))
  }
  for (const x of list('csi')) {
    volumes.push({ name: String(x.name), csi: { driver: String(x.driver ?? ''), ...(str(x.fs_type) ? { fsType: x.fs_type as string } : {}), readOnly: x.read_only === true, ...(isObject(x.volume_attributes) ? { volumeAttributes: map(x.volume_attributes) } : {}) } })
    mount(x, String(x.name))
  }
  for (const x of list('nfs')) {
    volumes.push({ name: String(x.name), nfs: { server: String(x.server ?? ''), path: String(x.path ?? ''), ...(x.read_only === true ? { readOnly: true } : {}) } })
    mount(x, String(x.name))
  }
  return { volumes, mounts }
}

function podTolerations(t: Record<string, string>): V1Toleration[] {
  return Object.entries(t).map(([keyValue, effect]) => {
    const eq = keyValue.indexOf('=')
    const tol: V1Toleration = {}
    if (eq >= 0) {
      tol.key = keyValue.slice(0, eq)
      tol.operator = 'Equal'
      tol.value = keyValue.slice(eq + 1)
    } else {
      if (keyValue) tol.key = keyValue
      tol.operator = 'Exists'
    }
    if (effect) tol.effect = effect
    return tol
  })
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())

/** snake_case TOML tables → the camelCase Kubernetes fields they mirror (affinity, dns_config, lifecycle). */
function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize)
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([key, x]) => [camel(key), camelize(x)]))
  return v
}

function affinity(v: unknown): V1Affinity | undefined {
  if (!isObject(v) || Object.keys(v).length === 0) return undefined
  return camelize(v) as V1Affinity
}

function dnsConfig(v: unknown): V1PodDNSConfig | undefined {
  if (!isObject(v) || Object.keys(v).length === 0) return undefined
  return camelize(v) as V1PodDNSConfig
}

function containerLifecycle(v: unknown): V1Container['lifecycle'] | undefined {
  if (!isObject(v) || Object.keys(v).length === 0) return undefined
  const handler = (h: unknown): unknown => {
    if (!isObject(h)) return undefined
    const c = camelize(h) as Record<string, unknown>
    if (isObject(c.httpGet) && isObject(h.http_get) && Array.isArray(h.http_get.http_headers)) (c.httpGet as Record<string, unknown>).httpHeaders = h.http_get.http_headers
    return c
  }
  return { ...(v.post_start ? { postStart: handler(v.post_start) } : {}), ...(v.pre_stop ? { preStop: handler(v.pre_stop) } : {}) } as V1Container['lifecycle']
}

/** Host names the runner derives from a service image: `docker:dind` → docker; `a/b:1` → a__b, a-b. */
export function imageAliases(image: string): string[] {
  const noTag = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '')
  const noRegistry = noTag.includes('/') && /[.:]|^localhost$/.test(noTag.split('/')[0]!) ? noTag.split('/').slice(1).join('/') : noTag
  const out = [noRegistry.replaceAll('/', '__'), noRegistry.replaceAll('/', '-')]
  return [...new Set(out)].filter((a) => DNS_SUBDOMAIN.test(a))
}

function dockercfgFrom(dockerAuthConfig: string): string {
  try {
    const parsed = JSON.parse(dockerAuthConfig) as { auths?: Record<string, unknown> }
    return JSON.stringify(parsed.auths ?? {})
  } catch {
    return '{}'
  }
}

function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`
}

function applyPodSpecPatches(pod: V1Pod, patches: Array<Record<string, unknown>>, notes: string[], problem: (m: string, c: CatalogId) => void): V1Pod {
  let spec = structuredClone(pod.spec) as unknown as Record<string, unknown>
  for (const p of patches) {
    const type = str(p.patch_type) ?? 'strategic'
    const name = str(p.name) ?? '(unnamed)'
    let patch: unknown
    try {
      patch = parseYaml(String(p.patch ?? ''))
    } catch (err) {
      problem(`pod_spec patch ${name}: ${(err as Error).message}`, 'config-invalid')
      continue
    }
    notes.push(`Advanced Pod Spec configuration enabled, merging the provided PodSpec (${name}, ${type})`)
    if (type === 'json') {
      try {
        spec = jsonPatch.applyPatch(spec, patch as Operation[], false, false).newDocument
      } catch (err) {
        problem(`pod_spec patch ${name}: ${(err as Error).message}`, 'config-invalid')
      }
    } else spec = (type === 'merge' ? mergePatch : strategicMerge)(spec, patch) as Record<string, unknown>
  }
  return { ...pod, spec: spec as unknown as V1Pod['spec'] }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, v] of Object.entries(patch)) {
    if (v === null) delete out[key]
    else out[key] = mergePatch(out[key], v)
  }
  return out
}

/** Strategic merge for pod specs: lists of named items (containers, volumes, env…) merge by name. */
function strategicMerge(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && patch.every((x) => isObject(x) && 'name' in x) && target.every((x) => isObject(x) && 'name' in x)) {
    const out = target.map((x) => ({ ...(x as object) })) as Array<Record<string, unknown>>
    for (const item of patch as Array<Record<string, unknown>>) {
      const i = out.findIndex((x) => x.name === item.name)
      if (i >= 0) out[i] = strategicMerge(out[i], item) as Record<string, unknown>
      else out.push(item)
    }
    return out
  }
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, v] of Object.entries(patch)) {
    if (v === null) delete out[key]
    else out[key] = strategicMerge(out[key], v)
  }
  return out
}

/** Requests/limits of the pod as the scheduler and quotas count them: sum of containers, max with each init container. */
export function footprintOf(pod: V1Pod): Footprint {
  const sum = (containers: V1Container[] | undefined, kind: 'requests' | 'limits'): Record<string, number> => {
    const out: Record<string, number> = {}
    for (const c of containers ?? []) for (const [r, q] of Object.entries(c.resources?.[kind] ?? {})) out[r] = (out[r] ?? 0) + (parseQuantity(String(q))?.value ?? 0)
    return out
  }
  const result: Footprint = { requests: sum(pod.spec?.containers, 'requests'), limits: sum(pod.spec?.containers, 'limits') }
  for (const init of pod.spec?.initContainers ?? []) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const [r, q] of Object.entries(init.resources?.[kind] ?? {})) {
        const v = parseQuantity(String(q))?.value ?? 0
        if (v > (result[kind][r] ?? 0)) result[kind][r] = v
      }
    }
  }
  return result
}

export { makeRfc1123Compatible }
