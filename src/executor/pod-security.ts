/**
 * A pure evaluator of a rendered pod against the Pod Security Standards (baseline, restricted), as Pod
 * Security Admission applies them: each violated control with the fields it looks at, worded as the API
 * server words it (`violates PodSecurity "restricted:latest": reason (detail), …`), and the config.toml
 * change that fixes it for a runner's pod. Facts from the Kubernetes pod-security-admission policy
 * package (check ids, allowed values, messages, the version each control starts at); no I/O.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node'

export type PssLevel = 'privileged' | 'baseline' | 'restricted'
export const PSS_LEVELS: readonly PssLevel[] = ['privileged', 'baseline', 'restricted']

/** `latest` or a minor version of 1.x, as `pod-security.kubernetes.io/<mode>-version` pins it. */
export type PssVersion = 'latest' | { minor: number }

export interface PssFix {
  text: string
  /** Lines for [runners.kubernetes] and its sub-tables, merged into one block by restrictedFix(). */
  toml?: Record<string, Record<string, unknown>>
}

export interface PssViolation {
  /** The control's id in pod-security-admission (e.g. `allowPrivilegeEscalation`). */
  check: string
  level: Exclude<PssLevel, 'privileged'>
  reason: string
  detail: string
  /** The pod fields the control looks at, where they are set or missing. */
  fields: string[]
  fix: PssFix
}

type Pod = V1Pod
type Check = {
  id: string
  level: 'baseline' | 'restricted'
  since: number
  /** Baseline checks a restricted check replaces at the restricted level. */
  overrides?: string
  run: (pod: Pod) => Omit<PssViolation, 'check' | 'level'> | undefined
}

const KUBE = 'runners.kubernetes'
const plural = (one: string, many: string, n: number): string => (n === 1 ? one : many)
const quote = (xs: readonly string[]): string => xs.map((x) => JSON.stringify(x)).join(', ')
const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort()
const containersOf = (pod: Pod): Array<{ c: V1Container; path: string }> => [
  ...(pod.spec?.initContainers ?? []).map((c, i) => ({ c, path: `spec.initContainers[${i}]` })),
  ...(pod.spec?.containers ?? []).map((c, i) => ({ c, path: `spec.containers[${i}]` })),
]
const named = (kind: string, names: readonly string[]): string => `${plural(kind, `${kind}s`, names.length)} ${quote(names)}`

/** The config.toml security-context table of a runner container. */
export function contextKey(container: string): string {
  if (container === 'build' || container === 'init-build-uid-gid-collector') return 'build_container_security_context'
  if (container === 'helper') return 'helper_container_security_context'
  if (container === 'init-permissions') return 'init_permissions_container_security_context'
  return 'service_container_security_context'
}
const contextTables = (names: readonly string[]): string[] => sortedUnique(names.map((n) => `${KUBE}.${contextKey(n)}`))

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'])
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'])
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']
const validSeccomp = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost'

/** A control where the pod-level setting covers containers that leave it unset (runAsNonRoot, seccompProfile). */
function podOrContainers(pod: Pod, get: (sc: Record<string, unknown> | undefined) => unknown, good: (v: unknown) => boolean): { badSetters: string[]; badValues: string[]; implicit: string[]; paths: string[] } {
  const badSetters: string[] = []
  const badValues: string[] = []
  const paths: string[] = []
  const podValue = get(pod.spec?.securityContext as Record<string, unknown> | undefined)
  let podOk = false
  if (podValue !== undefined) {
    if (good(podValue)) podOk = true
    else {
      badSetters.push('pod')
      badValues.push(String(podValue))
      paths.push('spec.securityContext')
    }
  }
  const explicit: string[] = []
  const implicit: string[] = []
  for (const { c, path } of containersOf(pod)) {
    const v = get(c.securityContext as Record<string, unknown> | undefined)
    if (v !== undefined) {
      if (!good(v)) {
        explicit.push(c.name)
        badValues.push(String(v))
        paths.push(`${path}.securityContext`)
      }
    } else if (!podOk) {
      implicit.push(c.name)
      paths.push(`${path}.securityContext`)
    }
  }
  if (explicit.length > 0) badSetters.push(named('container', explicit))
  return { badSetters, badValues: sortedUnique(badValues), implicit, paths }
}

const CHECKS: Check[] = [
  {
    id: 'appArmorProfile', level: 'baseline', since: 0,
    run: (pod) => {
      const bad: string[] = []
      const paths: string[] = []
      for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
        if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v && v !== 'runtime/default' && !v.startsWith('localhost/')) bad.push(`${k}=${JSON.stringify(v)}`)
      }
      const setters: string[] = []
      if (pod.spec?.securityContext?.appArmorProfile?.type === 'Unconfined') {
        setters.push('pod')
        paths.push('spec.securityContext.appArmorProfile')
      }
      const containers = containersOf(pod).filter(({ c }) => c.securityContext?.appArmorProfile?.type === 'Unconfined')
      if (containers.length > 0) setters.push(named('container', containers.map(({ c }) => c.name)))
      paths.push(...containers.map(({ path }) => `${path}.securityContext.appArmorProfile`))
      if (setters.length > 0) bad.push(`${setters.join(' and ')} must not set appArmorProfile.type to "Unconfined"`)
      if (bad.length === 0) return undefined
      bad.sort()
      return { reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length), detail: bad.join(', '), fields: paths, fix: { text: 'Use the runtime\'s default AppArmor profile (or a Localhost one) instead of Unconfined:', toml: { [`${KUBE}.pod_security_context.app_armor_profile`]: { type: 'RuntimeDefault' }, ...Object.fromEntries(containers.map(({ c }) => [`${KUBE}.${contextKey(c.name)}.app_armor_profile`, { type: 'RuntimeDefault' }])) } } }
    },
  },
  {
    id: 'capabilities_baseline', level: 'baseline', since: 0,
    run: (pod) => {
      const bad: Array<{ c: V1Container; path: string }> = []
      const caps = new Set<string>()
      for (const x of containersOf(pod)) {
        const added = (x.c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap))
        if (added.length > 0) bad.push(x)
        for (const cap of added) caps.add(cap)
      }
      if (bad.length === 0) return undefined
      const list = sortedUnique(caps)
      return { reason: 'non-default capabilities', detail: `${named('container', bad.map((x) => x.c.name))} must not include ${quote(list)} in securityContext.capabilities.add`, fields: bad.map((x) => `${x.path}.securityContext.capabilities.add`), fix: { text: `Remove ${list.join(', ')} from cap_add (and from the capabilities.add of ${contextTables(bad.map((x) => x.c.name)).join(', ')} where set); baseline allows only the container runtime's default capabilities.` } }
    },
  },
  {
    id: 'hostNamespaces', level: 'baseline', since: 0,
    run: (pod) => {
      const set = (['hostIPC', 'hostNetwork', 'hostPID'] as const).filter((k) => pod.spec?.[k] === true)
      if (set.length === 0) return undefined
      return { reason: 'host namespaces', detail: set.join(', '), fields: set.map((k) => `spec.${k}`), fix: { text: `Remove ${set.join(', ')} from the pod_spec patches of the runner.` } }
    },
  },
  {
    id: 'hostPathVolumes', level: 'baseline', since: 0,
    run: (pod) => {
      const vols = (pod.spec?.volumes ?? []).filter((v) => v.hostPath)
      if (vols.length === 0) return undefined
      return { reason: 'hostPath volumes', detail: named('volume', vols.map((v) => v.name)), fields: vols.map((v) => `spec.volumes[${(pod.spec!.volumes ?? []).indexOf(v)}].hostPath`), fix: { text: `Remove the [[runners.kubernetes.volumes.host_path]] entries ${vols.map((v) => v.name).join(', ')}; use a pvc, csi or empty_dir volume instead (for Docker builds, a dind service instead of the node's docker.sock).` } }
    },
  },
  {
    id: 'hostPorts', level: 'baseline', since: 0,
    run: (pod) => {
      const bad = containersOf(pod).filter(({ c }) => (c.ports ?? []).some((p) => (p.hostPort ?? 0) !== 0))
      if (bad.length === 0) return undefined
      const ports = sortedUnique(bad.flatMap(({ c }) => (c.ports ?? []).filter((p) => (p.hostPort ?? 0) !== 0).map((p) => String(p.hostPort))))
      return { reason: 'hostPort', detail: `${named('container', bad.map(({ c }) => c.name))} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}`, fields: bad.map(({ path }) => `${path}.ports`), fix: { text: 'Remove the hostPort from the pod_spec patches; the runner\'s own ports (image and service ports:) never set one.' } }
    },
  },
  {
    id: 'hostProbesAndHostLifecycle', level: 'baseline', since: 34,
    run: (pod) => {
      const hosts = new Set<string>()
      const bad = containersOf(pod).filter(({ c }) => {
        const found = [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop].flatMap((h) => [h?.httpGet?.host, h?.tcpSocket?.host]).filter((x): x is string => Boolean(x))
        for (const h of found) hosts.add(h)
        return found.length > 0
      })
      if (bad.length === 0) return undefined
      const list = sortedUnique(hosts)
      return { reason: 'probe or lifecycle host', detail: `${named('container', sortedUnique(bad.map(({ c }) => c.name)))} ${plural('uses', 'use', bad.length)} ${plural('probe or lifecycle host', 'probe or lifecycle hosts', list.length)} ${quote(list)}`, fields: bad.map(({ path }) => `${path}.lifecycle`), fix: { text: 'Remove host from the http_get of [runners.kubernetes.container_lifecycle] (the handler then calls the pod itself).' } }
    },
  },
  {
    id: 'privileged', level: 'baseline', since: 0,
    run: (pod) => {
      const bad = containersOf(pod).filter(({ c }) => c.securityContext?.privileged === true)
      if (bad.length === 0) return undefined
      return { reason: 'privileged', detail: `${named('container', bad.map(({ c }) => c.name))} must not set securityContext.privileged=true`, fields: bad.map(({ path }) => `${path}.securityContext.privileged`), fix: { text: 'Turn privileged off (Docker-in-Docker needs it: build images with a rootless builder such as buildah or kaniko instead):', toml: { [KUBE]: { privileged: false }, ...Object.fromEntries(contextTables(bad.map(({ c }) => c.name)).map((t) => [t, { privileged: false }])) } } }
    },
  },
  {
    id: 'procMount', level: 'baseline', since: 0,
    run: (pod) => {
      const bad = containersOf(pod).filter(({ c }) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default')
      if (bad.length === 0) return undefined
      return { reason: 'procMount', detail: `${named('container', bad.map(({ c }) => c.name))} must not set securityContext.procMount to ${quote(sortedUnique(bad.map(({ c }) => c.securityContext!.procMount!)))}`, fields: bad.map(({ path }) => `${path}.securityContext.procMount`), fix: { text: `Remove proc_mount = "unmasked" from ${contextTables(bad.map(({ c }) => c.name)).join(', ')}.` } }
    },
  },
  {
    id: 'seLinuxOptions', level: 'baseline', since: 0,
    run: (pod) => {
      const badTypes = new Set<string>()
      let user = false
      let role = false
      const valid = (o: { type?: string; user?: string; role?: string } | undefined): boolean => {
        if (!o) return true
        let ok = true
        if (!SELINUX_TYPES.has(o.type ?? '')) { ok = false; badTypes.add(o.type ?? '') }
        if (o.user) { ok = false; user = true }
        if (o.role) { ok = false; role = true }
        return ok
      }
      const setters: string[] = []
      const fields: string[] = []
      if (!valid(pod.spec?.securityContext?.seLinuxOptions)) { setters.push('pod'); fields.push('spec.securityContext.seLinuxOptions') }
      const bad = containersOf(pod).filter(({ c }) => !valid(c.securityContext?.seLinuxOptions))
      if (bad.length > 0) setters.push(named('container', bad.map(({ c }) => c.name)))
      fields.push(...bad.map(({ path }) => `${path}.securityContext.seLinuxOptions`))
      if (setters.length === 0) return undefined
      const data: string[] = []
      if (badTypes.size > 0) {
        data.push(`${plural('type', 'types', badTypes.size)} ${quote(sortedUnique(badTypes))}`)
        if (user) data.push('user may not be set')
        if (role) data.push('role may not be set')
      }
      return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`, fields, fix: { text: 'Remove selinux_type (or set it to container_t) in pod_security_context and the container security contexts.' } }
    },
  },
  {
    id: 'seccompProfile_baseline', level: 'baseline', since: 0,
    run: (pod) => {
      const r = podOrContainers(pod, (sc) => (sc?.seccompProfile as { type?: string } | undefined)?.type, validSeccompOrUnset)
      if (r.badSetters.length === 0) return undefined
      return { reason: 'seccompProfile', detail: `${r.badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${quote(r.badValues)}`, fields: r.paths, fix: { text: 'Do not set seccomp_profile type "Unconfined"; use RuntimeDefault:', toml: { [`${KUBE}.pod_security_context.seccomp_profile`]: { type: 'RuntimeDefault' } } } }
    },
  },
  {
    id: 'sysctls', level: 'baseline', since: 0,
    run: (pod) => {
      const bad = (pod.spec?.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !SAFE_SYSCTLS.has(n))
      if (bad.length === 0) return undefined
      return { reason: 'forbidden sysctls', detail: sortedUnique(bad).join(', '), fields: ['spec.securityContext.sysctls'], fix: { text: 'Remove the unsafe sysctls from the pod_spec patches.' } }
    },
  },
  {
    id: 'windowsHostProcess', level: 'baseline', since: 0,
    run: (pod) => {
      const setters: string[] = []
      if (pod.spec?.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod')
      const bad = containersOf(pod).filter(({ c }) => c.securityContext?.windowsOptions?.hostProcess === true)
      if (bad.length > 0) setters.push(named('container', bad.map(({ c }) => c.name)))
      if (setters.length === 0) return undefined
      return { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`, fields: ['spec.securityContext.windowsOptions', ...bad.map(({ path }) => `${path}.securityContext.windowsOptions`)], fix: { text: 'Remove windowsOptions.hostProcess from the pod_spec patches.' } }
    },
  },
  {
    id: 'allowPrivilegeEscalation', level: 'restricted', since: 8,
    run: (pod) => {
      const bad = containersOf(pod).filter(({ c }) => c.securityContext?.allowPrivilegeEscalation !== false)
      if (bad.length === 0) return undefined
      return { reason: 'allowPrivilegeEscalation != false', detail: `${named('container', bad.map(({ c }) => c.name))} must set securityContext.allowPrivilegeEscalation=false`, fields: bad.map(({ path }) => `${path}.securityContext.allowPrivilegeEscalation`), fix: { text: 'Forbid privilege escalation in every container:', toml: { [KUBE]: { allow_privilege_escalation: false } } } }
    },
  },
  {
    id: 'capabilities_restricted', level: 'restricted', since: 22, overrides: 'capabilities_baseline',
    run: (pod) => {
      const missingDrop = containersOf(pod).filter(({ c }) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL'))
      const adding = containersOf(pod).filter(({ c }) => (c.securityContext?.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE'))
      if (missingDrop.length === 0 && adding.length === 0) return undefined
      const details: string[] = []
      if (missingDrop.length > 0) details.push(`${named('container', missingDrop.map(({ c }) => c.name))} must set securityContext.capabilities.drop=["ALL"]`)
      const forbidden = sortedUnique(adding.flatMap(({ c }) => (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE')))
      if (adding.length > 0) details.push(`${named('container', adding.map(({ c }) => c.name))} must not include ${quote(forbidden)} in securityContext.capabilities.add`)
      return { reason: 'unrestricted capabilities', detail: details.join('; '), fields: [...missingDrop, ...adding].map(({ path }) => `${path}.securityContext.capabilities`), fix: { text: `Drop every capability${forbidden.length ? ` and add none but NET_BIND_SERVICE (remove ${forbidden.join(', ')} from cap_add)` : ''}:`, toml: { [KUBE]: { cap_drop: ['ALL'], ...(forbidden.length ? { cap_add: [] } : {}) } } } }
    },
  },
  {
    id: 'restrictedVolumes', level: 'restricted', since: 0,
    run: (pod) => {
      const bad = (pod.spec?.volumes ?? []).filter((v) => !RESTRICTED_VOLUME_TYPES.some((t) => (v as unknown as Record<string, unknown>)[t] !== undefined))
      if (bad.length === 0) return undefined
      const names = sortedUnique(bad.map((v) => v.name))
      return { reason: 'restricted volume types', detail: `volumes [${names.map((n) => JSON.stringify(n)).join(' ')}] have restricted types`, fields: bad.map((v) => `spec.volumes[${(pod.spec!.volumes ?? []).indexOf(v)}]`), fix: { text: `Replace the host_path and nfs volumes ${names.join(', ')} with pvc, csi, config_map, secret or empty_dir volumes.` } }
    },
  },
  {
    id: 'runAsNonRoot', level: 'restricted', since: 0,
    run: (pod) => {
      const r = podOrContainers(pod, (sc) => sc?.runAsNonRoot, (v) => v === true)
      const toml = { [`${KUBE}.pod_security_context`]: { run_as_non_root: true, run_as_user: 1000 } }
      const text = 'Run every container as a non-root user (the kubelet also needs a numeric non-root UID to verify it: set run_as_user to the UID your images use):'
      if (r.badSetters.length > 0) return { reason: 'runAsNonRoot != true', detail: `${r.badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`, fields: r.paths, fix: { text, toml } }
      if (r.implicit.length > 0) return { reason: 'runAsNonRoot != true', detail: `pod or ${named('container', r.implicit)} must set securityContext.runAsNonRoot=true`, fields: r.paths, fix: { text, toml } }
      return undefined
    },
  },
  {
    id: 'runAsUser', level: 'restricted', since: 23,
    run: (pod) => {
      const setters: string[] = []
      const fields: string[] = []
      if (pod.spec?.securityContext?.runAsUser === 0) { setters.push('pod'); fields.push('spec.securityContext.runAsUser') }
      const bad = containersOf(pod).filter(({ c }) => c.securityContext?.runAsUser === 0)
      if (bad.length > 0) setters.push(named('container', bad.map(({ c }) => c.name)))
      fields.push(...bad.map(({ path }) => `${path}.securityContext.runAsUser`))
      if (setters.length === 0) return undefined
      return { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0`, fields, fix: { text: 'Set run_as_user to a non-zero UID (in pod_security_context and wherever a container context, or a job\'s kubernetes: user, sets 0):', toml: { [`${KUBE}.pod_security_context`]: { run_as_user: 1000 }, ...Object.fromEntries(contextTables(bad.map(({ c }) => c.name)).map((t) => [t, { run_as_user: 1000 }])) } } }
    },
  },
  {
    id: 'seccompProfile_restricted', level: 'restricted', since: 19, overrides: 'seccompProfile_baseline',
    run: (pod) => {
      const r = podOrContainers(pod, (sc) => (sc?.seccompProfile as { type?: string } | undefined)?.type, (v) => validSeccomp(v as string))
      const fix = { text: 'Give the pod the runtime\'s default seccomp profile:', toml: { [`${KUBE}.pod_security_context.seccomp_profile`]: { type: 'RuntimeDefault' } } }
      if (r.badSetters.length > 0) return { reason: 'seccompProfile', detail: `${r.badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${quote(r.badValues)}`, fields: r.paths, fix }
      if (r.implicit.length > 0) return { reason: 'seccompProfile', detail: `pod or ${named('container', r.implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`, fields: r.paths, fix }
      return undefined
    },
  },
]

function validSeccompOrUnset(v: unknown): boolean {
  return validSeccomp(v as string)
}

/** Check ids in the order Pod Security Admission lists violations: baseline controls, then restricted ones, each by id. */
const ORDERED = [...CHECKS].sort((a, b) => (a.level === b.level ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.level === 'baseline' ? -1 : 1))
export const PSS_CHECK_IDS: readonly string[] = ORDERED.map((c) => c.id)

/** The newest minor version whose controls gkr knows (the meaning of `latest`). */
export const LATEST_MINOR = 34

/** The violations of `level` at `version` (latest by default); [] for privileged. */
export function evaluatePodSecurity(pod: V1Pod, level: PssLevel, version: PssVersion = 'latest'): PssViolation[] {
  if (level === 'privileged') return []
  const minor = version === 'latest' ? LATEST_MINOR : version.minor
  const applicable = ORDERED.filter((c) => c.since <= minor && (level === 'restricted' || c.level === 'baseline'))
  const overridden = new Set(level === 'restricted' ? applicable.filter((c) => c.level === 'restricted' && c.overrides).map((c) => c.overrides!) : [])
  const out: PssViolation[] = []
  for (const c of applicable) {
    if (overridden.has(c.id)) continue
    const v = c.run(pod)
    if (v) out.push({ check: c.id, level: c.level, ...v })
  }
  return out
}

/** The highest level the pod meets at `version`. */
export function podSecurityLevel(pod: V1Pod, version: PssVersion = 'latest'): PssLevel {
  if (evaluatePodSecurity(pod, 'restricted', version).length === 0) return 'restricted'
  if (evaluatePodSecurity(pod, 'baseline', version).length === 0) return 'baseline'
  return 'privileged'
}

export const showVersion = (v: PssVersion): string => (v === 'latest' ? 'latest' : `v1.${v.minor}`)

/** The API server's sentence: `violates PodSecurity "restricted:latest": reason (detail), …`. */
export function podSecurityMessage(level: PssLevel, version: PssVersion, violations: readonly PssViolation[]): string {
  return `violates PodSecurity ${JSON.stringify(`${level}:${showVersion(version)}`)}: ${violations.map((v) => `${v.reason} (${v.detail})`).join(', ')}`
}

/** A namespace label's level (`pod-security.kubernetes.io/<mode>`); undefined when unset or not a level. */
export function parseLevel(v: string | undefined): PssLevel | undefined {
  return v !== undefined && (PSS_LEVELS as readonly string[]).includes(v) ? (v as PssLevel) : undefined
}

/** A namespace's `<mode>-version` label: latest when unset or not a version (as the admission plugin defaults it). */
export function parseVersion(v: string | undefined): PssVersion {
  const m = /^v1\.(\d+)$/.exec(v ?? '')
  if (!m) return 'latest'
  const minor = Number(m[1])
  return minor >= LATEST_MINOR ? 'latest' : { minor }
}

const tomlValue = (v: unknown): string => (Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v))

/** One config.toml block that applies every fix (tables merged, in a stable order). */
export function combinedFix(violations: readonly PssViolation[], runnerName?: string): string {
  const tables = new Map<string, Record<string, unknown>>()
  for (const v of violations) for (const [t, entries] of Object.entries(v.fix.toml ?? {})) tables.set(t, { ...(tables.get(t) ?? {}), ...entries })
  if (tables.size === 0) return ''
  const order = [...tables.keys()].sort((a, b) => (a === KUBE ? -1 : b === KUBE ? 1 : a.localeCompare(b)))
  if (!order.includes(KUBE)) order.unshift(KUBE)
  const body = order.map((t) => `  [${t}]\n${Object.entries(tables.get(t) ?? {}).map(([k, v]) => `    ${k} = ${tomlValue(v)}`).join('\n')}`.replace(/\n$/, '')).join('\n')
  return `[[runners]]\n${runnerName ? `  name = ${JSON.stringify(runnerName)}\n` : ''}${body}`
}

/** The fixes as nested tables (for merging into a loaded config in tests and tools). */
export function fixTables(violations: readonly PssViolation[]): Record<string, Record<string, unknown>> {
  const tables: Record<string, Record<string, unknown>> = {}
  for (const v of violations) for (const [t, entries] of Object.entries(v.fix.toml ?? {})) tables[t] = { ...(tables[t] ?? {}), ...entries }
  return tables
}
