import { describe, expect, it } from 'vitest'
import { admitPodSecurity, policiesOf, violations, describeViolations, type PodSpec, type Policy } from '../../src/sim/pod-security.js'
import { checkPodUpdate, strategicMerge, withoutDirectives } from '../../src/sim/merge.js'
import { objectFromProtobuf } from '../../src/sim/protobuf-objects.js'
import { findResource } from '../../src/sim/resources.js'

/**
 * The simulator's Pod Security Standards control by control (it is the oracle gkr's own evaluator is
 * tested against), and the strategic-merge directives and pod-update rules, as pure functions.
 */

const latest = (level: Policy['level']): Policy => ({ level, version: 'latest', minor: 33 })
const at = (level: Policy['level'], minor: number): Policy => ({ level, version: `v1.${minor}`, minor })
const tidy = (): PodSpec => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'build', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
})
const text = (spec: PodSpec, policy: Policy): string => describeViolations(violations(spec, policy))

describe('Pod Security Standards, control by control', () => {
  it('a pod that meets restricted passes every level; privileged checks nothing', () => {
    for (const level of ['privileged', 'baseline', 'restricted'] as const) expect(violations(tidy(), latest(level))).toEqual([])
    expect(violations({ hostNetwork: true, containers: [{ name: 'x', securityContext: { privileged: true } }] }, latest('privileged'))).toEqual([])
  })

  it.each<[string, (s: PodSpec) => void, string]>([
    ['privileged', (s) => (s.containers![0]!.securityContext!.privileged = true), 'privileged (container "build" must not set securityContext.privileged=true)'],
    ['host namespaces', (s) => Object.assign(s, { hostIPC: true }), 'host namespaces (hostIPC=true)'],
    ['hostPath', (s) => (s.volumes = [{ name: 'a', hostPath: { path: '/' } }, { name: 'b', hostPath: { path: '/x' } }]), 'hostPath volumes (volumes "a", "b")'],
    ['hostPort', (s) => (s.containers![0]!.ports = [{ hostPort: 80 }, { hostPort: 443 }]), 'hostPort (container "build" uses hostPorts 443, 80)'],
    ['capabilities', (s) => (s.containers![0]!.securityContext!.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN', 'CHOWN'] }), 'non-default capabilities (container "build" must not include "SYS_ADMIN" in securityContext.capabilities.add)'],
    ['procMount', (s) => (s.containers![0]!.securityContext!.procMount = 'Unmasked'), 'procMount (container "build" must not set securityContext.procMount to "Unmasked")'],
    ['seccomp Unconfined', (s) => (s.securityContext!.seccompProfile = { type: 'Unconfined' }), 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
    ['seLinux', (s) => (s.securityContext = { ...s.securityContext, seLinuxOptions: { type: 'spc_t' } }), 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")'],
    ['seLinux everywhere', (s) => {
      s.securityContext = { ...s.securityContext, seLinuxOptions: { type: 'foo', user: 'u', role: 'r' } }
      s.containers!.push({ name: 'b', securityContext: { seLinuxOptions: { type: 'container_t' } } }, { name: 'c', securityContext: { seLinuxOptions: { type: 'bar' } } })
    }, 'seLinuxOptions (pod and container "c" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set)'],
    ['sysctls', (s) => (s.securityContext = { ...s.securityContext, sysctls: [{ name: 'net.core.somaxconn' }, { name: 'kernel.shm_rmid_forced' }] }), 'forbidden sysctls (net.core.somaxconn)'],
    ['hostProcess', (s) => (s.containers![0]!.securityContext!.windowsOptions = { hostProcess: true }), 'hostProcess (container "build" must not set securityContext.windowsOptions.hostProcess=true)'],
  ])('baseline: %s', (_name, change, expected) => {
    const spec = tidy()
    change(spec)
    expect(text(spec, latest('baseline'))).toBe(expected)
  })

  it.each<[string, (s: PodSpec) => void, string]>([
    ['allowPrivilegeEscalation', (s) => delete s.containers![0]!.securityContext!.allowPrivilegeEscalation, 'allowPrivilegeEscalation != false (container "build" must set securityContext.allowPrivilegeEscalation=false)'],
    ['capabilities', (s) => (s.containers![0]!.securityContext!.capabilities = { add: ['NET_BIND_SERVICE', 'CHOWN'] }), 'unrestricted capabilities (container "build" must set securityContext.capabilities.drop=["ALL"]; container "build" must not include "CHOWN" in securityContext.capabilities.add)'],
    ['volumes', (s) => (s.volumes = [{ name: 'cache', emptyDir: {} }, { name: 'nfs', nfs: { server: 'x' } }]), 'restricted volume types (volume "nfs" uses restricted volume type "nfs")'],
    ['runAsNonRoot=false', (s) => (s.containers![0]!.securityContext!.runAsNonRoot = false), 'runAsNonRoot != true (container "build" must not set securityContext.runAsNonRoot=false)'],
    ['runAsUser=0', (s) => (s.securityContext!.runAsUser = 0), 'runAsUser=0 (pod must not set runAsUser=0)'],
    ['seccomp unset', (s) => delete s.securityContext!.seccompProfile, 'seccompProfile (pod or container "build" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'],
    ['seccomp bad and unset', (s) => {
      s.securityContext!.seccompProfile = { type: 'Unconfined' }
      s.containers!.push({ name: 'helper', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } })
    }, 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
  ])('restricted: %s', (_name, change, expected) => {
    const spec = tidy()
    change(spec)
    expect(text(spec, latest('restricted'))).toBe(expected)
  })

  it('versions: controls apply from the version that introduced them; Windows pods are exempt from three since v1.25', () => {
    const root = tidy()
    root.securityContext!.runAsUser = 0
    expect(text(root, at('restricted', 22))).toBe('')
    expect(text(root, at('restricted', 23))).toBe('runAsUser=0 (pod must not set runAsUser=0)')
    const win: PodSpec = { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [{ name: 'w' }] }
    expect(text(win, at('restricted', 24))).toContain('allowPrivilegeEscalation != false')
    expect(text(win, at('restricted', 25))).toBe('')
  })

  it('labels: defaults, versions, and invalid values evaluated as restricted:latest and reported', () => {
    expect(policiesOf({}).policies.enforce).toEqual({ level: 'privileged', version: 'latest', minor: 33 })
    expect(policiesOf({ 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.40' }).policies.warn).toEqual({ level: 'baseline', version: 'v1.40', minor: 33 })
    const bad = policiesOf({ 'pod-security.kubernetes.io/audit': 'baseline', 'pod-security.kubernetes.io/audit-version': '1.30' })
    expect(bad.policies.audit).toEqual({ level: 'restricted', version: 'latest', minor: 33 })
    expect(bad.errors).toEqual([{ field: 'metadata.labels[pod-security.kubernetes.io/audit-version]', message: 'Invalid value: "1.30": must be "latest" or "v1.x"' }])
  })

  it('workload templates get warnings and audit annotations, never an enforce refusal', () => {
    const labels = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'baseline' }
    const job = { metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ name: 'build', securityContext: { privileged: true } }] } } } }
    expect(admitPodSecurity(labels, 'jobs', job)).toEqual({ warnings: ['would violate PodSecurity "baseline:latest": privileged (container "build" must not set securityContext.privileged=true)'], audit: {} })
    expect(admitPodSecurity(labels, 'pods', { metadata: { name: 'p' }, spec: job.spec.template.spec }).forbidden).toMatch(/^violates PodSecurity "restricted:latest": privileged/)
  })
})

describe('strategic merge patch directives are interpreted, never stored', () => {
  const live = { spec: { containers: [{ name: 'a', image: '1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }, { name: 'b', image: '1' }] }, metadata: { finalizers: ['f1'], labels: { k: 'v', drop: 'me' } } }

  it('$setElementOrder reorders, $patch: delete removes an item, $deleteFromPrimitiveList removes values, $retainKeys prunes', () => {
    const out = strategicMerge(live, {
      spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a', env: [{ name: 'Y', $patch: 'delete' }] }] },
      metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'], finalizers: ['f2'], labels: { $retainKeys: ['k'], k: 'w' } },
    })
    expect(out).toEqual({ spec: { containers: [{ name: 'b', image: '1' }, { name: 'a', image: '1', env: [{ name: 'X', value: '1' }] }] }, metadata: { finalizers: ['f2'], labels: { k: 'w' } } })
    expect(JSON.stringify(out)).not.toContain('$')
  })

  it('$patch: replace replaces a map or a list; lists without a merge key are replaced; null deletes', () => {
    expect(strategicMerge(live, { metadata: { labels: { $patch: 'replace', only: 'this' } } })).toMatchObject({ metadata: { labels: { only: 'this' } } })
    expect((strategicMerge(live, { spec: { containers: [{ $patch: 'replace' }, { name: 'c', image: '2' }] } }) as typeof live).spec.containers).toEqual([{ name: 'c', image: '2' }])
    expect(strategicMerge({ args: ['a', 'b'], keep: 1 }, { args: ['c'], keep: null })).toEqual({ args: ['c'] })
    expect(withoutDirectives({ a: [{ $patch: 'delete' }, { b: 1, $x: 2 }] })).toEqual({ a: [{ b: 1 }] })
  })

  it('an unknown $patch value is 400', () => {
    expect(() => strategicMerge(live, { spec: { $patch: 'explode' } })).toThrow(/Unknown patch type: explode/)
  })
})

describe('pod updates', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: '1' }], tolerations: [{ key: 't' }], activeDeadlineSeconds: 60 } }

  it('may change images, add tolerations and change activeDeadlineSeconds', () => {
    expect(() => checkPodUpdate(pod, { ...pod, spec: { containers: [{ name: 'a', image: '2' }], tolerations: [{ key: 't' }, { key: 'u' }], activeDeadlineSeconds: 30 } })).not.toThrow()
  })

  it('may not change anything else, nor remove a toleration (422 Forbidden on spec)', () => {
    for (const spec of [{ ...pod.spec, containers: [{ name: 'a', image: '1', command: ['sh'] }] }, { ...pod.spec, tolerations: [] }, { ...pod.spec, nodeName: 'elsewhere' }]) {
      expect(() => checkPodUpdate(pod, { ...pod, spec })).toThrow(/^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/)
    }
  })
})

describe('protobuf bodies of the kinds kubectl create sends', () => {
  const envelope = (kind: string, raw: Buffer): Buffer => {
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('v1'), Buffer.from([0x12, kind.length]), Buffer.from(kind)])
    return Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, raw.length]), raw])
  }
  const cm = findResource('', 'v1', 'configmaps')!

  it('decodes metadata and data; an empty string field is left out', () => {
    const meta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('cm'), Buffer.from([0x12, 0])])
    const entry = Buffer.concat([Buffer.from([0x0a, 1]), Buffer.from('a'), Buffer.from([0x12, 1]), Buffer.from('1')])
    const raw = Buffer.concat([Buffer.from([0x0a, meta.length]), meta, Buffer.from([0x12, entry.length]), entry])
    expect(objectFromProtobuf(cm, envelope('ConfigMap', raw))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } })
  })

  it('a kind it does not decode is undefined (415); a body of its kinds that does not parse is 400, never a crash', () => {
    expect(objectFromProtobuf(findResource('policy', 'v1', 'poddisruptionbudgets')!, envelope('PodDisruptionBudget', Buffer.alloc(0)))).toBeUndefined()
    // A kind it decodes, with a field it does not model that carries a value (Job.spec.podFailurePolicy, 11): 415 too.
    const job = findResource('batch', 'v1', 'jobs')!
    expect(objectFromProtobuf(job, envelope('Job', Buffer.from([0x12, 4, 0x5a, 2, 0x0a, 0])))).toBeUndefined()
    expect(objectFromProtobuf(cm, Buffer.from('not protobuf'))).toBeUndefined()
    expect(() => objectFromProtobuf(cm, envelope('ConfigMap', Buffer.from([0x0a, 3, 0xff, 0xff, 0xff])))).toThrow('the object provided is unrecognized or could not be decoded')
  })
})
