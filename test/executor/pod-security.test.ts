import type { V1Container, V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { parse as parseToml } from 'smol-toml'
import { parseConfigText } from '../../src/config/load.js'
import { renderJob } from '../../src/executor/render.js'
import type { CiJob } from '../../src/ci/types.js'
import { combinedFix, evaluatePodSecurity, parseVersion, podSecurityLevel, podSecurityMessage, PSS_CHECK_IDS } from '../../src/executor/pod-security.js'
import { evaluateRestrictedV2, parseRange, sccMessage } from '../../src/executor/scc.js'
import podSecurity from '../../src/checks/cluster/pod-security.js'
import { runCheck } from '../../src/checks/run.js'
import type { Facts } from '../../src/checks/facts.js'

/** A pod that meets restricted: every control passes. */
function compliant(): V1Pod {
  const c = (name: string): V1Container => ({ name, image: 'alpine', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } })
  return {
    metadata: { name: 'runner-x-project-1-concurrent-0-abcdefgh', annotations: {} },
    spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, initContainers: [c('init-permissions')], containers: [c('build'), c('helper')], volumes: [{ name: 'repo', emptyDir: {} }] },
  }
}
const mutate = (f: (p: V1Pod) => void): V1Pod => {
  const p = compliant()
  f(p)
  return p
}
const build = (p: V1Pod): V1Container => p.spec!.containers[0]!

/** For each control: a pod that violates it, the same pod made to comply, and the API server's words. */
const CONTROLS: Array<{ id: string; level: 'baseline' | 'restricted'; bad: V1Pod; good: V1Pod; reason: string; detail: string }> = [
  { id: 'appArmorProfile', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.appArmorProfile = { type: 'Unconfined' })), good: mutate((p) => void (build(p).securityContext!.appArmorProfile = { type: 'RuntimeDefault' })), reason: 'forbidden AppArmor profile', detail: 'container "build" must not set appArmorProfile.type to "Unconfined"' },
  { id: 'capabilities_baseline', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.capabilities!.add = ['SYS_ADMIN'])), good: mutate((p) => void (build(p).securityContext!.capabilities!.add = ['CHOWN'])), reason: 'non-default capabilities', detail: 'container "build" must not include "SYS_ADMIN" in securityContext.capabilities.add' },
  { id: 'hostNamespaces', level: 'baseline', bad: mutate((p) => void Object.assign(p.spec!, { hostNetwork: true, hostPID: true })), good: mutate((p) => void Object.assign(p.spec!, { hostNetwork: false })), reason: 'host namespaces', detail: 'hostNetwork, hostPID' },
  { id: 'hostPathVolumes', level: 'baseline', bad: mutate((p) => void p.spec!.volumes!.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } })), good: mutate((p) => void p.spec!.volumes!.push({ name: 'docker', emptyDir: {} })), reason: 'hostPath volumes', detail: 'volume "docker"' },
  { id: 'hostPorts', level: 'baseline', bad: mutate((p) => void (build(p).ports = [{ containerPort: 80, hostPort: 8080 }])), good: mutate((p) => void (build(p).ports = [{ containerPort: 80 }])), reason: 'hostPort', detail: 'container "build" uses hostPort 8080' },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', bad: mutate((p) => void (build(p).lifecycle = { preStop: { httpGet: { host: 'example.com', port: 80 } } })), good: mutate((p) => void (build(p).lifecycle = { preStop: { httpGet: { port: 80 } } })), reason: 'probe or lifecycle host', detail: 'container "build" uses probe or lifecycle host "example.com"' },
  { id: 'privileged', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.privileged = true)), good: mutate((p) => void (build(p).securityContext!.privileged = false)), reason: 'privileged', detail: 'container "build" must not set securityContext.privileged=true' },
  { id: 'procMount', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.procMount = 'Unmasked')), good: mutate((p) => void (build(p).securityContext!.procMount = 'Default')), reason: 'procMount', detail: 'container "build" must not set securityContext.procMount to "Unmasked"' },
  { id: 'seLinuxOptions', level: 'baseline', bad: mutate((p) => void (p.spec!.securityContext!.seLinuxOptions = { type: 'spc_t' })), good: mutate((p) => void (p.spec!.securityContext!.seLinuxOptions = { type: 'container_t' })), reason: 'seLinuxOptions', detail: 'pod set forbidden securityContext.seLinuxOptions: type "spc_t"' },
  { id: 'seccompProfile_baseline', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.seccompProfile = { type: 'Unconfined' })), good: mutate((p) => void (build(p).securityContext!.seccompProfile = { type: 'Localhost', localhostProfile: 'ci.json' })), reason: 'seccompProfile', detail: 'container "build" must not set securityContext.seccompProfile.type to "Unconfined"' },
  { id: 'sysctls', level: 'baseline', bad: mutate((p) => void (p.spec!.securityContext!.sysctls = [{ name: 'kernel.msgmax', value: '1' }])), good: mutate((p) => void (p.spec!.securityContext!.sysctls = [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }])), reason: 'forbidden sysctls', detail: 'kernel.msgmax' },
  { id: 'windowsHostProcess', level: 'baseline', bad: mutate((p) => void (build(p).securityContext!.windowsOptions = { hostProcess: true })), good: mutate((p) => void (build(p).securityContext!.windowsOptions = { hostProcess: false })), reason: 'hostProcess', detail: 'container "build" must not set securityContext.windowsOptions.hostProcess=true' },
  { id: 'allowPrivilegeEscalation', level: 'restricted', bad: mutate((p) => void delete build(p).securityContext!.allowPrivilegeEscalation), good: compliant(), reason: 'allowPrivilegeEscalation != false', detail: 'container "build" must set securityContext.allowPrivilegeEscalation=false' },
  { id: 'capabilities_restricted', level: 'restricted', bad: mutate((p) => void (p.spec!.containers[1]!.securityContext!.capabilities = { drop: ['NET_RAW'] })), good: mutate((p) => void (build(p).securityContext!.capabilities!.add = ['NET_BIND_SERVICE'])), reason: 'unrestricted capabilities', detail: 'container "helper" must set securityContext.capabilities.drop=["ALL"]' },
  { id: 'restrictedVolumes', level: 'restricted', bad: mutate((p) => void p.spec!.volumes!.push({ name: 'cache', nfs: { server: 'nfs', path: '/c' } })), good: mutate((p) => void p.spec!.volumes!.push({ name: 'cache', persistentVolumeClaim: { claimName: 'cache' } })), reason: 'restricted volume types', detail: 'volumes ["cache"] have restricted types' },
  { id: 'runAsNonRoot', level: 'restricted', bad: mutate((p) => void delete p.spec!.securityContext!.runAsNonRoot), good: mutate((p) => { delete p.spec!.securityContext!.runAsNonRoot; for (const c of [...p.spec!.initContainers!, ...p.spec!.containers]) c.securityContext!.runAsNonRoot = true }), reason: 'runAsNonRoot != true', detail: 'pod or containers "init-permissions", "build", "helper" must set securityContext.runAsNonRoot=true' },
  { id: 'runAsUser', level: 'restricted', bad: mutate((p) => void (build(p).securityContext!.runAsUser = 0)), good: mutate((p) => void (build(p).securityContext!.runAsUser = 1000)), reason: 'runAsUser=0', detail: 'container "build" must not set runAsUser=0' },
  { id: 'seccompProfile_restricted', level: 'restricted', bad: mutate((p) => void delete p.spec!.securityContext!.seccompProfile), good: mutate((p) => { delete p.spec!.securityContext!.seccompProfile; for (const c of [...p.spec!.initContainers!, ...p.spec!.containers]) c.securityContext!.seccompProfile = { type: 'RuntimeDefault' } }), reason: 'seccompProfile', detail: 'pod or containers "init-permissions", "build", "helper" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"' },
]

describe('Pod Security Standards: every control', () => {
  it('covers every control of baseline and restricted', () => {
    expect(CONTROLS.map((c) => c.id).sort()).toEqual([...PSS_CHECK_IDS].sort())
    expect(evaluatePodSecurity(compliant(), 'restricted')).toEqual([])
  })

  for (const c of CONTROLS) {
    it(`${c.id}: a pod that violates it, in the API server's words, and one that does not`, () => {
      const found = evaluatePodSecurity(c.bad, c.level)
      const v = found.find((x) => x.check === c.id || (c.id === 'seccompProfile_baseline' && x.check === 'seccompProfile_restricted'))
      expect(v, JSON.stringify(found)).toBeDefined()
      expect({ reason: v!.reason, detail: v!.detail }).toEqual({ reason: c.reason, detail: c.detail })
      expect(v!.fields.length).toBeGreaterThan(0)
      expect(v!.fix.text.length).toBeGreaterThan(10)
      expect(evaluatePodSecurity(c.good, c.level), 'the complying pod').toEqual([])
      if (c.level === 'restricted') expect(evaluatePodSecurity(c.bad, 'baseline'), 'restricted controls do not apply at baseline').toEqual([])
    })
  }

  it('words the whole rejection as the API server does, baseline controls first, each by id', () => {
    const p = mutate((x) => {
      build(x).securityContext = { privileged: true }
      delete x.spec!.securityContext
    })
    expect(podSecurityMessage('restricted', 'latest', evaluatePodSecurity(p, 'restricted'))).toBe(
      'violates PodSecurity "restricted:latest": privileged (container "build" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "build" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "build" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or containers "init-permissions", "build", "helper" must set securityContext.runAsNonRoot=true), seccompProfile (pod or containers "init-permissions", "build", "helper" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    )
  })

  it('follows the version a namespace pins: controls newer than it do not apply', () => {
    const p = mutate((x) => {
      build(x).securityContext!.runAsUser = 0
      build(x).securityContext!.capabilities = { drop: ['NET_RAW'] }
    })
    expect(evaluatePodSecurity(p, 'restricted', parseVersion('v1.21')).map((v) => v.check)).toEqual([])
    expect(evaluatePodSecurity(p, 'restricted', parseVersion('v1.22')).map((v) => v.check)).toEqual(['capabilities_restricted'])
    expect(evaluatePodSecurity(p, 'restricted', parseVersion('v1.23')).map((v) => v.check)).toEqual(['capabilities_restricted', 'runAsUser'])
    expect(podSecurityMessage('restricted', parseVersion('v1.23'), [])).toMatch(/^violates PodSecurity "restricted:v1.23"/)
    expect(parseVersion('latest')).toBe('latest')
    expect(parseVersion('v1.99')).toBe('latest')
  })
})

const runner = (kube: string): ReturnType<typeof parseConfigText>['runners'][number] =>
  parseConfigText(`[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n${kube}\n`, '/x/config.toml').runners[0]!
const job: CiJob = { name: 'test', stage: 'test', services: [{ name: 'postgres:16' }], variables: {}, before_script: [], script: ['true'], after_script: [], cache: [], artifacts: { paths: [] }, unsupported: [] }

describe('rendered runner pods', () => {
  it('the default config meets baseline, not restricted; privileged dind meets neither', () => {
    expect(podSecurityLevel(renderJob({ runner: runner(''), job }).pod)).toBe('baseline')
    expect(podSecurityLevel(renderJob({ runner: runner('privileged = true'), job }).pod)).toBe('privileged')
  })

  it('the config.toml doctor prints for restricted, merged into the config and rendered again, passes restricted', () => {
    for (const base of ['', 'cap_add = ["SYS_PTRACE"]\n[runners.kubernetes.pod_security_context]\nfs_group = 1000']) {
      const before = renderJob({ runner: runner(base), job }).pod
      const violations = evaluatePodSecurity(before, 'restricted')
      expect(violations.length).toBeGreaterThan(0)
      const fix = combinedFix(violations, 'r')
      // Merge the printed block into the runner's config as a user would (tables merged key by key).
      const printed = parseToml(fix) as { runners: Array<Record<string, unknown>> }
      const original = parseToml(`[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n${base}\n`) as { runners: Array<Record<string, unknown>> }
      const merge = (a: unknown, b: unknown): unknown => (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b) ? Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, k in (b as object) ? merge((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]) : (a as Record<string, unknown>)[k]])) : b)
      const merged = merge(original.runners[0], printed.runners[0]) as Record<string, unknown>
      const text = stringifyRunner(merged)
      const after = renderJob({ runner: parseConfigText(text, '/x/config.toml').runners[0]!, job }).pod
      expect(evaluatePodSecurity(after, 'restricted'), text).toEqual([])
    }
  })
})

/** A small TOML writer for the merged runner (strings, numbers, booleans, arrays and nested tables). */
function stringifyRunner(r: Record<string, unknown>): string {
  const lines: string[] = ['[[runners]]']
  const value = (v: unknown): string => (Array.isArray(v) ? `[${v.map(value).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v))
  const table = (prefix: string, t: Record<string, unknown>): void => {
    const nested: Array<[string, Record<string, unknown>]> = []
    for (const [k, v] of Object.entries(t)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) nested.push([k, v as Record<string, unknown>])
      else lines.push(`${JSON.stringify(k)} = ${value(v)}`)
    }
    for (const [k, v] of nested) {
      lines.push(`[${prefix}.${k}]`)
      table(`${prefix}.${k}`, v)
    }
  }
  table('runners', r)
  return lines.join('\n')
}

describe('OpenShift restricted-v2', () => {
  it('reads the namespace\'s ranges', () => {
    expect(parseRange('1000680000/10000')).toEqual([1000680000, 1000689999])
    expect(parseRange('junk')).toBeUndefined()
  })

  it('names the fields the SCC refuses, in its words, and admits a pod within its ranges', () => {
    const p = mutate((x) => {
      build(x).securityContext = { privileged: true, capabilities: { add: ['SYS_ADMIN'] }, runAsUser: 0 }
      x.spec!.volumes!.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } })
    })
    const ns = { annotations: { 'openshift.io/sa.scc.uid-range': '1000680000/10000' } }
    const v = evaluateRestrictedV2(p, ns)
    expect(sccMessage('pod-1', v)).toBe(
      'pods "pod-1" is forbidden: unable to validate against any security context constraint: [provider restricted-v2: spec.volumes[1]: Invalid value: "hostPath": hostPath volumes are not allowed to be used, provider restricted-v2: spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed, provider restricted-v2: spec.containers[0].securityContext.capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added, provider restricted-v2: spec.containers[0].securityContext.runAsUser: Invalid value: 0: must be in the ranges: [1000680000, 1000689999]]',
    )
    expect(evaluateRestrictedV2(mutate((x) => void (build(x).securityContext!.runAsUser = 1000680001)), ns)).toEqual([])
    expect(evaluateRestrictedV2(renderJob({ runner: runner(''), job }).pod, ns)).toEqual([])
  })
})

describe('doctor: cluster-pod-security', () => {
  const ok = <T>(value: T) => ({ ok: true as const, value })
  const check = (kube: string, labels: Record<string, string>, extra: Facts = {}) => {
    const config = parseConfigText(`[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n${kube}\n`, '/x/config.toml')
    const r = config.runners[0]!
    const facts: Facts = { namespace: ok({ name: 'ci', exists: true, labels, annotations: { 'openshift.io/sa.scc.uid-range': '1000680000/10000' } }), ...extra }
    return runCheck(podSecurity, { config, runner: r, facts, rendered: renderJob({ runner: r, job }), options: { online: true, live: false } })
  }

  it('an enforced level the pod breaks fails with the API server\'s rejection and the fix', () => {
    expect(podSecurity.id).toBe('cluster-pod-security')
    const r = check('', { 'pod-security.kubernetes.io/enforce': 'restricted' })
    expect(r.status).toBe('fail')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.message).toMatch(/^the job pod breaks Pod Security "restricted:latest" and namespace ci enforces it, so every job pod is rejected: pods "runner-abcdefghi-project-1-concurrent-0-[a-z0-9]{8}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(containers "init-permissions", "build", "helper", "svc-0" must set securityContext.allowPrivilegeEscalation=false\), /)
    expect(r.findings[0]!.fix!.toml).toContain('allow_privilege_escalation = false')
    expect(r.findings[0]!.at).toBeDefined()
  })

  it('warn and audit labels warn; a pinned version is honoured; a met level passes', () => {
    const r = check('', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/warn-version': 'v1.23', 'pod-security.kubernetes.io/audit': 'restricted' })
    expect(r.status).toBe('warn')
    expect(r.findings.map((f) => [f.severity, (f.details as { mode: string }).mode])).toEqual([['warn', 'warn'], ['warn', 'audit']])
    expect(r.findings[0]!.message).toContain('Warning: would violate PodSecurity "restricted:v1.23": ')
    expect(check('', {}).status).toBe('pass')
    expect(check('privileged = true', { 'pod-security.kubernetes.io/enforce': 'privileged' }).status).toBe('pass')
  })

  it('with a fake discovery answer that serves security.openshift.io, checks restricted-v2 too', () => {
    const kube = '[runners.kubernetes.pod_security_context]\nrun_as_user = 1000'
    expect(check(kube, {}, { openshiftScc: ok(false) }).status).toBe('pass')
    const r = check(kube, {}, { openshiftScc: ok(true) })
    expect(r.status).toBe('warn')
    expect(r.findings[0]!.message).toContain('unable to validate against any security context constraint: [provider restricted-v2: spec.securityContext.runAsUser: Invalid value: 1000: must be in the ranges: [1000680000, 1000689999]')
    expect(r.findings[0]!.catalog).toEqual(['openshift-scc'])
  })

  it('a namespace fact that could not be read skips the check, naming why', () => {
    const config = parseConfigText('[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.kubernetes]\nimage = "alpine"\n', '/x/config.toml')
    const r = runCheck(podSecurity, { config, runner: config.runners[0]!, facts: { namespace: { ok: false, reason: 'forbidden', forbidden: { verb: 'get', resource: 'namespaces' } } }, rendered: renderJob({ runner: config.runners[0]!, job }), options: { online: true, live: false } })
    expect(r.status).toBe('skipped')
  })
})
