/**
 * A pure evaluator of a rendered pod against OpenShift's default SecurityContextConstraints for workloads,
 * restricted-v2: no privileged containers, no privilege escalation, every capability dropped (only
 * NET_BIND_SERVICE may be added), a UID inside the namespace's range (openshift.io/sa.scc.uid-range) or
 * none, fsGroup inside the namespace's group range, seccomp runtime/default, and only the volume types
 * of the restricted Pod Security level. Wording as the SCC admission plugin words its field errors.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node'

export interface SccViolation {
  field: string
  message: string
  fix: string
}

/** `openshift.io/sa.scc.uid-range` / `supplemental-groups`: "<start>/<size>" (or "<start>-<end>"). */
export function parseRange(v: string | undefined): [number, number] | undefined {
  const m = /^(\d+)(?:\/(\d+)|-(\d+))$/.exec((v ?? '').trim().split(',')[0] ?? '')
  if (!m) return undefined
  const start = Number(m[1])
  return [start, m[2] !== undefined ? start + Number(m[2]) - 1 : Number(m[3])]
}

const VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']

export interface SccNamespace {
  /** The namespace's annotations (the UID and group ranges OpenShift assigned to it). */
  annotations?: Record<string, string>
}

export function evaluateRestrictedV2(pod: V1Pod, ns: SccNamespace = {}): SccViolation[] {
  const out: SccViolation[] = []
  const uidRange = parseRange(ns.annotations?.['openshift.io/sa.scc.uid-range'])
  const groupRange = parseRange(ns.annotations?.['openshift.io/sa.scc.supplemental-groups']) ?? uidRange
  const ranges = (r: [number, number] | undefined): string => (r ? `[${r[0]}, ${r[1]}]` : 'of the namespace (annotation openshift.io/sa.scc.uid-range)')
  const spec = pod.spec ?? { containers: [] }
  for (const [flag, what] of [['hostNetwork', 'Host network'], ['hostPID', 'Host PID'], ['hostIPC', 'Host IPC']] as const) {
    if (spec[flag] === true) out.push({ field: `spec.securityContext.${flag}`, message: `Invalid value: true: ${what} is not allowed to be used`, fix: `Remove ${flag} from the pod_spec patches.` })
  }
  const podUid = spec.securityContext?.runAsUser
  if (podUid !== undefined && !(uidRange && podUid >= uidRange[0] && podUid <= uidRange[1])) out.push({ field: 'spec.securityContext.runAsUser', message: `Invalid value: ${podUid}: must be in the ranges: ${ranges(uidRange)}`, fix: 'Remove run_as_user from pod_security_context: OpenShift assigns a UID from the namespace\'s range.' })
  const fsGroup = spec.securityContext?.fsGroup
  if (fsGroup !== undefined && !(groupRange && fsGroup >= groupRange[0] && fsGroup <= groupRange[1])) out.push({ field: 'spec.securityContext.fsGroup', message: `Invalid value: []int64{${fsGroup}}: ${fsGroup} is not an allowed group`, fix: 'Remove fs_group from pod_security_context: OpenShift assigns one from the namespace\'s range.' })
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') out.push({ field: 'spec.securityContext.seccompProfile.type', message: 'Forbidden: Unconfined is not an allowed seccomp profile. Valid values are runtime/default', fix: 'Set seccomp_profile type = "RuntimeDefault" in pod_security_context.' })
  ;(spec.volumes ?? []).forEach((v, i) => {
    const type = Object.keys(v).find((k) => k !== 'name')
    if (type && !VOLUME_TYPES.includes(type)) out.push({ field: `spec.volumes[${i}]`, message: `Invalid value: ${JSON.stringify(type)}: ${type} volumes are not allowed to be used`, fix: `Replace volume ${v.name} with a pvc, csi, config_map, secret or empty_dir volume.` })
  })
  const visit = (list: V1Container[] | undefined, base: string): void => {
    ;(list ?? []).forEach((c, i) => {
      const at = `${base}[${i}]`
      const sc = c.securityContext
      if (sc?.privileged === true) out.push({ field: `${at}.securityContext.privileged`, message: 'Invalid value: true: Privileged containers are not allowed', fix: `Set privileged = false (container ${c.name}).` })
      if (sc?.allowPrivilegeEscalation === true) out.push({ field: `${at}.securityContext.allowPrivilegeEscalation`, message: 'Invalid value: true: Allowing privilege escalation for containers is not allowed', fix: `Set allow_privilege_escalation = false (container ${c.name}).` })
      for (const cap of sc?.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push({ field: `${at}.securityContext.capabilities.add`, message: `Invalid value: ${JSON.stringify(cap)}: capability may not be added`, fix: `Remove ${cap} from cap_add (container ${c.name}).` })
      const uid = sc?.runAsUser
      if (uid !== undefined && !(uidRange && uid >= uidRange[0] && uid <= uidRange[1])) out.push({ field: `${at}.securityContext.runAsUser`, message: `Invalid value: ${uid}: must be in the ranges: ${ranges(uidRange)}`, fix: `Remove run_as_user (or the job's kubernetes: user) for container ${c.name}: OpenShift assigns a UID from the namespace's range.` })
      if (sc?.seLinuxOptions?.type && sc.seLinuxOptions.type !== 'container_t') out.push({ field: `${at}.securityContext.seLinuxOptions.type`, message: `Invalid value: ${JSON.stringify(sc.seLinuxOptions.type)}: must be ${JSON.stringify('container_t')}`, fix: `Remove selinux_type (container ${c.name}): OpenShift assigns the namespace's SELinux context.` })
      for (const p of c.ports ?? []) if ((p.hostPort ?? 0) !== 0) out.push({ field: `${at}.ports.hostPort`, message: `Invalid value: ${p.hostPort}: Host ports are not allowed to be used`, fix: 'Remove the hostPort from the pod_spec patches.' })
    })
  }
  visit(spec.initContainers, 'spec.initContainers')
  visit(spec.containers, 'spec.containers')
  return out
}

/** The API server's sentence for a pod no SCC admits, restricted-v2 being the one the runner's service account can use. */
export function sccMessage(podName: string, violations: readonly SccViolation[]): string {
  return `pods ${JSON.stringify(podName)} is forbidden: unable to validate against any security context constraint: [${violations.map((v) => `provider restricted-v2: ${v.field}: ${v.message}`).join(', ')}]`
}
