/**
 * Pod Security Admission as the API server's built-in PodSecurity plugin applies it: a namespace's
 * `pod-security.kubernetes.io/{enforce,warn,audit}` labels (and their `-version`) choose a level of
 * the Pod Security Standards per mode; a pod that breaks a control of the enforced level is refused
 * (403), one that breaks the warned level gets a `Warning` header, one that breaks the audited level
 * an annotation in the audit log. Each control is worded as the plugin words it, so clients see the
 * same text a real cluster gives them. This is the simulator's own reading of the standards: gkr's
 * product code has an evaluator of its own and is tested against this one.
 */
import type { Obj } from './store.js'
import { exemptionOf, withDefaults, type PodSecurityConfig } from './pod-security-config.js'

export type Level = 'privileged' | 'baseline' | 'restricted'
export type Mode = 'enforce' | 'warn' | 'audit'
export const MODES: readonly Mode[] = ['enforce', 'warn', 'audit']
const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted']
/** The newest version of the standards this API server knows (its own minor version). */
const LATEST_MINOR = 33
const PREFIX = 'pod-security.kubernetes.io/'

export interface Policy {
  level: Level
  /** As the label gives it: `latest` or `v1.N`. */
  version: string
  /** The minor version the controls are evaluated at. */
  minor: number
}

export const policyLabel = (p: Policy): string => `${p.level}:${p.version}`

/** A label whose value is neither a level nor a version, as a field error of the namespace. */
export interface LabelError {
  field: string
  message: string
}

function parseVersion(v: string): number | undefined {
  if (v === 'latest') return LATEST_MINOR
  const m = /^v1\.(0|[1-9]\d{0,2})$/.exec(v)
  return m ? Math.min(Number(m[1]), LATEST_MINOR) : undefined
}

/**
 * The policy of each mode from a namespace's labels. A missing label is `privileged:latest` (the
 * plugin's default configuration); a label that does not parse is evaluated as `restricted:latest`,
 * the plugin's fallback, and reported in `errors`.
 */
export function policiesOf(labels: Record<string, string> | undefined): { policies: Record<Mode, Policy>; errors: LabelError[] } {
  const errors: LabelError[] = []
  const policies = {} as Record<Mode, Policy>
  for (const mode of MODES) {
    const levelValue = labels?.[`${PREFIX}${mode}`]
    const versionValue = labels?.[`${PREFIX}${mode}-version`]
    let level: Level = 'privileged'
    let version = 'latest'
    let bad = false
    if (levelValue !== undefined) {
      if ((LEVELS as readonly string[]).includes(levelValue)) level = levelValue as Level
      else {
        errors.push({ field: `metadata.labels[${PREFIX}${mode}]`, message: `Invalid value: ${JSON.stringify(levelValue)}: must be one of privileged, baseline, restricted` })
        bad = true
      }
    }
    if (versionValue !== undefined) {
      if (parseVersion(versionValue) !== undefined) version = versionValue
      else {
        errors.push({ field: `metadata.labels[${PREFIX}${mode}-version]`, message: `Invalid value: ${JSON.stringify(versionValue)}: must be "latest" or "v1.x"` })
        bad = true
      }
    }
    policies[mode] = bad ? { level: 'restricted', version: 'latest', minor: LATEST_MINOR } : { level, version, minor: parseVersion(version)! }
  }
  return { policies, errors }
}

type SecurityContext = {
  privileged?: boolean
  allowPrivilegeEscalation?: boolean
  runAsNonRoot?: boolean
  runAsUser?: number
  procMount?: string
  capabilities?: { add?: string[]; drop?: string[] }
  seccompProfile?: { type?: string }
  seLinuxOptions?: { type?: string; user?: string; role?: string }
  appArmorProfile?: { type?: string }
  windowsOptions?: { hostProcess?: boolean }
}
type Container = { name: string; securityContext?: SecurityContext; ports?: Array<{ hostPort?: number }> }
type PodSecurityContext = Omit<SecurityContext, 'privileged' | 'allowPrivilegeEscalation' | 'capabilities' | 'procMount'> & { sysctls?: Array<{ name: string }> }
export interface PodSpec {
  containers?: Container[]
  initContainers?: Container[]
  ephemeralContainers?: Container[]
  hostNetwork?: boolean
  hostPID?: boolean
  hostIPC?: boolean
  securityContext?: PodSecurityContext
  volumes?: Array<Record<string, unknown> & { name: string }>
  os?: { name?: string }
}

/** One control the pod breaks: the plugin's reason and the detail in parentheses. */
interface Violation {
  reason: string
  detail: string
}

const plural = (one: string, many: string, n: number): string => (n === 1 ? one : many)
const quoted = (xs: string[]): string => xs.map((x) => JSON.stringify(x)).join(', ')
const named = (xs: string[]): string => `${plural('container', 'containers', xs.length)} ${quoted(xs)}`

/** Init containers, then containers, then ephemeral containers: the order the plugin visits them in. */
const containersOf = (spec: PodSpec): Container[] => [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']
const SAFE_SYSCTLS: Array<[string, number]> = [
  ['kernel.shm_rmid_forced', 0], ['net.ipv4.ip_local_port_range', 0], ['net.ipv4.tcp_syncookies', 0], ['net.ipv4.ping_group_range', 0], ['net.ipv4.ip_unprivileged_port_start', 0],
  ['net.ipv4.ip_local_reserved_ports', 27], ['net.ipv4.tcp_keepalive_time', 29], ['net.ipv4.tcp_fin_timeout', 29], ['net.ipv4.tcp_keepalive_intvl', 29], ['net.ipv4.tcp_keepalive_probes', 29],
  ['net.ipv4.tcp_rmem', 32], ['net.ipv4.tcp_wmem', 32],
]
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t']

interface Control {
  /** The plugin's check id: checks run baseline first, then restricted, each in order of id. */
  id: string
  level: 'baseline' | 'restricted'
  /** Minor version the control applies from. */
  since: number
  /** A restricted control that takes the place of a baseline one. */
  replaces?: string
  /** Windows pods are exempt from it from v1.25 on. */
  notOnWindows?: boolean
  check(spec: PodSpec, minor: number, annotations: Record<string, string>): Violation | undefined
}

const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/'

const CONTROLS: Control[] = [
  {
    // Baseline allows only the runtime's default and profiles loaded on the node, in the deprecated
    // per-container annotation and in securityContext.appArmorProfile (pod or container).
    id: 'appArmorProfile', level: 'baseline', since: 0,
    check(spec, _minor, annotations) {
      const bad = Object.keys(annotations).filter((k) => k.startsWith(APPARMOR_PREFIX)).sort()
        .filter((k) => annotations[k] !== '' && annotations[k] !== 'runtime/default' && !annotations[k]!.startsWith('localhost/'))
        .map((k) => `${k}=${JSON.stringify(annotations[k])}`)
      const setters: string[] = []
      if (spec.securityContext?.appArmorProfile?.type === 'Unconfined') setters.push('pod')
      const cs = containersOf(spec).filter((c) => c.securityContext?.appArmorProfile?.type === 'Unconfined').map((c) => c.name)
      if (cs.length) setters.push(named(cs))
      if (setters.length) bad.push(`${setters.join(' and ')} must not set AppArmor profile type to "Unconfined"`)
      return bad.length ? { reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length), detail: bad.join(', ') } : undefined
    },
  },
  {
    id: 'capabilities_baseline', level: 'baseline', since: 0,
    check(spec) {
      const bad: string[] = []
      const caps = new Set<string>()
      for (const c of containersOf(spec)) {
        const added = (c.securityContext?.capabilities?.add ?? []).filter((x) => !BASELINE_CAPABILITIES.has(x))
        if (added.length) bad.push(c.name)
        for (const a of added) caps.add(a)
      }
      return bad.length ? { reason: 'non-default capabilities', detail: `${named(bad)} must not include ${quoted([...caps].sort())} in securityContext.capabilities.add` } : undefined
    },
  },
  {
    id: 'hostNamespaces', level: 'baseline', since: 0,
    check(spec) {
      const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true)
      return set.length ? { reason: 'host namespaces', detail: set.map((k) => `${k}=true`).join(', ') } : undefined
    },
  },
  {
    id: 'hostPathVolumes', level: 'baseline', since: 0,
    check(spec) {
      const bad = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined).map((v) => v.name)
      return bad.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', bad.length)} ${quoted(bad)}` } : undefined
    },
  },
  {
    id: 'hostPorts', level: 'baseline', since: 0,
    check(spec) {
      const bad: string[] = []
      const ports = new Set<string>()
      for (const c of containersOf(spec)) {
        const used = (c.ports ?? []).filter((p) => p.hostPort !== undefined && p.hostPort !== 0).map((p) => String(p.hostPort))
        if (used.length) bad.push(c.name)
        for (const p of used) ports.add(p)
      }
      return bad.length ? { reason: 'hostPort', detail: `${named(bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', ports.size)} ${[...ports].sort().join(', ')}` } : undefined
    },
  },
  {
    id: 'privileged', level: 'baseline', since: 0,
    check(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name)
      return bad.length ? { reason: 'privileged', detail: `${named(bad)} must not set securityContext.privileged=true` } : undefined
    },
  },
  {
    id: 'procMount', level: 'baseline', since: 0,
    check(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default')
      const values = [...new Set(bad.map((c) => c.securityContext!.procMount!))].sort()
      return bad.length ? { reason: 'procMount', detail: `${named(bad.map((c) => c.name))} must not set securityContext.procMount to ${quoted(values)}` } : undefined
    },
  },
  {
    id: 'seLinuxOptions', level: 'baseline', since: 0,
    check(spec, minor) {
      const allowed = new Set([...SELINUX_TYPES, ...(minor >= 31 ? ['container_engine_t'] : [])])
      const types = new Set<string>()
      let user = false
      let role = false
      const bad = (o: SecurityContext['seLinuxOptions']): boolean => {
        if (!o) return false
        let ok = true
        if (!allowed.has(o.type ?? '')) {
          types.add(o.type!)
          ok = false
        }
        if (o.user) {
          user = true
          ok = false
        }
        if (o.role) {
          role = true
          ok = false
        }
        return !ok
      }
      const setters: string[] = []
      if (bad(spec.securityContext?.seLinuxOptions)) setters.push('pod')
      const cs = containersOf(spec).filter((c) => bad(c.securityContext?.seLinuxOptions)).map((c) => c.name)
      if (cs.length) setters.push(named(cs))
      if (!setters.length) return undefined
      const data = [...(types.size ? [`${plural('type', 'types', types.size)} ${quoted([...types].sort())}`] : []), ...(user ? ['user may not be set'] : []), ...(role ? ['role may not be set'] : [])]
      return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` }
    },
  },
  {
    id: 'seccompProfile_baseline', level: 'baseline', since: 0,
    check(spec) {
      const setters: string[] = []
      if (spec.securityContext?.seccompProfile?.type === 'Unconfined') setters.push('pod')
      const cs = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name)
      if (cs.length) setters.push(named(cs))
      return setters.length ? { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined
    },
  },
  {
    id: 'sysctls', level: 'baseline', since: 0,
    check(spec, minor) {
      // The safe set grows with the version.
      const safe = new Set(SAFE_SYSCTLS.filter(([, since]) => since <= minor).map(([n]) => n))
      const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !safe.has(n))
      return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined
    },
  },
  {
    id: 'windowsHostProcess', level: 'baseline', since: 0,
    check(spec) {
      const setters: string[] = []
      if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod')
      const cs = containersOf(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => c.name)
      if (cs.length) setters.push(named(cs))
      return setters.length ? { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` } : undefined
    },
  },
  {
    id: 'allowPrivilegeEscalation', level: 'restricted', since: 8, notOnWindows: true,
    check(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name)
      return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${named(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined
    },
  },
  {
    id: 'capabilities_restricted', level: 'restricted', since: 22, replaces: 'capabilities_baseline', notOnWindows: true,
    check(spec) {
      const noDrop: string[] = []
      const adding: string[] = []
      const caps = new Set<string>()
      for (const c of containersOf(spec)) {
        const cap = c.securityContext?.capabilities
        if (!(cap?.drop ?? []).includes('ALL')) noDrop.push(c.name)
        const added = (cap?.add ?? []).filter((x) => x !== 'NET_BIND_SERVICE')
        if (added.length) adding.push(c.name)
        for (const a of added) caps.add(a)
      }
      const details: string[] = []
      if (noDrop.length) details.push(`${named(noDrop)} must set securityContext.capabilities.drop=["ALL"]`)
      if (adding.length) details.push(`${named(adding)} must not include ${quoted([...caps].sort())} in securityContext.capabilities.add`)
      return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined
    },
  },
  {
    id: 'restrictedVolumes', level: 'restricted', since: 0,
    check(spec) {
      const bad: string[] = []
      const types = new Set<string>()
      for (const v of spec.volumes ?? []) {
        const type = Object.keys(v).find((k) => k !== 'name')
        if (type !== undefined && !RESTRICTED_VOLUMES.includes(type)) {
          bad.push(v.name)
          types.add(type)
        }
      }
      return bad.length ? { reason: 'restricted volume types', detail: `${plural('volume', 'volumes', bad.length)} ${quoted(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', types.size)} ${quoted([...types].sort())}` } : undefined
    },
  },
  {
    id: 'runAsNonRoot', level: 'restricted', since: 0,
    check(spec) {
      const setters: string[] = []
      const pod = spec.securityContext?.runAsNonRoot
      if (pod === false) setters.push('pod')
      const explicit: string[] = []
      const implicit: string[] = []
      for (const c of containersOf(spec)) {
        const v = c.securityContext?.runAsNonRoot
        if (v === false) explicit.push(c.name)
        else if (v === undefined && pod !== true) implicit.push(c.name)
      }
      if (explicit.length) setters.push(named(explicit))
      if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` }
      if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${named(implicit)} must set securityContext.runAsNonRoot=true` }
      return undefined
    },
  },
  {
    id: 'runAsUser', level: 'restricted', since: 23,
    check(spec) {
      const setters: string[] = []
      if (spec.securityContext?.runAsUser === 0) setters.push('pod')
      const cs = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name)
      if (cs.length) setters.push(named(cs))
      return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined
    },
  },
  {
    id: 'seccompProfile_restricted', level: 'restricted', since: 19, replaces: 'seccompProfile_baseline', notOnWindows: true,
    check(spec) {
      const ok = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost'
      const setters: string[] = []
      const values = new Set<string>()
      const podType = spec.securityContext?.seccompProfile?.type
      if (podType !== undefined && !ok(podType)) {
        setters.push('pod')
        values.add(podType)
      }
      const explicit: string[] = []
      const implicit: string[] = []
      for (const c of containersOf(spec)) {
        const t = c.securityContext?.seccompProfile?.type
        if (t === undefined) {
          if (!ok(podType)) implicit.push(c.name)
        } else if (!ok(t)) {
          explicit.push(c.name)
          values.add(t)
        }
      }
      if (explicit.length) setters.push(named(explicit))
      // Explicitly bad values are reported first, and alone; containers left unset only otherwise.
      if (setters.length) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${quoted([...values].sort())}` }
      if (implicit.length) return { reason: 'seccompProfile', detail: `pod or ${named(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` }
      return undefined
    },
  },
]

/** The controls a pod spec breaks at a level and version, in the order the plugin reports them. */
export function violations(spec: PodSpec | undefined, policy: Policy, annotations: Record<string, string> = {}): Violation[] {
  if (!spec || policy.level === 'privileged') return []
  const levels = policy.level === 'restricted' ? ['baseline', 'restricted'] : ['baseline']
  const active = CONTROLS.filter((c) => levels.includes(c.level) && c.since <= policy.minor)
  const replaced = new Set(active.filter((c) => c.replaces).map((c) => c.replaces!))
  const windows = spec.os?.name === 'windows' && policy.minor >= 25
  const out: Violation[] = []
  for (const level of levels) {
    for (const c of active.filter((x) => x.level === level && !replaced.has(x.id)).sort((a, b) => a.id.localeCompare(b.id))) {
      if (windows && c.notOnWindows) continue
      const v = c.check(spec, policy.minor, annotations)
      if (v) out.push(v)
    }
  }
  return out
}

export const describeViolations = (vs: Violation[]): string => vs.map((v) => `${v.reason} (${v.detail})`).join(', ')

const annotationsOf = (meta: unknown): Record<string, string> => {
  const a = (meta as { annotations?: unknown } | undefined)?.annotations
  return a && typeof a === 'object' ? (a as Record<string, string>) : {}
}

/** The metadata of a workload's pod template (where its AppArmor annotations are). */
function templateMeta(resource: string, obj: Obj): unknown {
  const spec = obj.spec as { template?: { metadata?: unknown }; jobTemplate?: { spec?: { template?: { metadata?: unknown } } } } | undefined
  return resource === 'cronjobs' ? spec?.jobTemplate?.spec?.template?.metadata : spec?.template?.metadata
}

/** The pod template of the kinds whose templates the plugin checks for warn and audit (not enforce). */
export function templateSpec(resource: string, obj: Obj): PodSpec | undefined {
  const spec = obj.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined
  if (resource === 'cronjobs') return spec?.jobTemplate?.spec?.template?.spec
  if (['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'replicationcontrollers'].includes(resource)) return spec?.template?.spec
  return undefined
}

export interface PodSecurityVerdict {
  /** The 403 message's reason (after `is forbidden: `), when enforce refuses the pod. */
  forbidden?: string
  /** Warning texts for the response's `Warning` headers. */
  warnings: string[]
  /** Annotations of the request's audit event. */
  audit: Record<string, string>
}

/**
 * What the plugin decides for a pod (or, for warn and audit only, a workload's pod template) in a
 * namespace with these labels.
 */
export function admitPodSecurity(nsLabels: Record<string, string> | undefined, resource: string, obj: Obj, request: { config?: PodSecurityConfig; namespace?: string; username?: string } = {}): PodSecurityVerdict {
  const isPod = resource === 'pods'
  const spec = isPod ? (obj.spec as PodSpec | undefined) : templateSpec(resource, obj)
  const verdict: PodSecurityVerdict = { warnings: [], audit: {} }
  if (!spec) return verdict
  const exempt = exemptionOf(request.config, { ...request, runtimeClassName: (spec as { runtimeClassName?: unknown }).runtimeClassName })
  if (exempt) {
    verdict.audit[`${PREFIX}exempt`] = exempt
    return verdict
  }
  nsLabels = withDefaults(nsLabels, request.config)
  const annotations = annotationsOf(isPod ? obj.metadata : templateMeta(resource, obj))
  const { policies } = policiesOf(nsLabels)
  if (isPod) {
    verdict.audit[`${PREFIX}enforce-policy`] = policyLabel(policies.enforce)
    const v = violations(spec, policies.enforce, annotations)
    if (v.length) {
      verdict.forbidden = `violates PodSecurity ${JSON.stringify(policyLabel(policies.enforce))}: ${describeViolations(v)}`
      return verdict
    }
  }
  const warn = violations(spec, policies.warn, annotations)
  if (warn.length) verdict.warnings.push(`would violate PodSecurity ${JSON.stringify(policyLabel(policies.warn))}: ${describeViolations(warn)}`)
  const audit = violations(spec, policies.audit, annotations)
  if (audit.length) verdict.audit[`${PREFIX}audit-violations`] = `would violate PodSecurity ${JSON.stringify(policyLabel(policies.audit))}: ${describeViolations(audit)}`
  return verdict
}

/**
 * Warnings for a namespace whose enforce level is raised: the existing pods that would now be
 * refused, as the plugin lists them when the label changes.
 */
export function namespaceWarnings(name: string, oldLabels: Record<string, string> | undefined, newLabels: Record<string, string> | undefined, pods: Obj[], config?: PodSecurityConfig): string[] {
  if (exemptionOf(config, { namespace: name })) return []
  oldLabels = withDefaults(oldLabels, config)
  newLabels = withDefaults(newLabels, config)
  const before = policiesOf(oldLabels).policies.enforce
  const after = policiesOf(newLabels).policies.enforce
  if (policyLabel(before) === policyLabel(after) || after.level === 'privileged') return []
  const bad = pods.map((p) => ({ name: p.metadata.name!, v: violations(p.spec as PodSpec, after, annotationsOf(p.metadata)) })).filter((x) => x.v.length > 0)
  if (bad.length === 0) return []
  return [`existing pods in namespace ${JSON.stringify(name)} violate the new PodSecurity enforce level ${JSON.stringify(policyLabel(after))}`, ...bad.map((b) => `${b.name}: ${b.v.map((x) => x.reason).join(', ')}`)]
}
