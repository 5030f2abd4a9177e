import { describe, expect, it } from 'vitest'
import type { Check } from '../../../src/checks/types.js'
import type { Facts, FactTypes } from '../../../src/checks/facts.js'
import { runCheck } from '../../../src/checks/run.js'
import { parseConfigText } from '../../../src/config/load.js'
import { renderJob } from '../../../src/executor/render.js'
import { REPRESENTATIVE_JOB } from '../../../src/doctor/cluster.js'
import permissions from '../../../src/checks/cluster/permissions.js'
import namespace from '../../../src/checks/cluster/namespace.js'
import references from '../../../src/checks/cluster/references.js'
import dryRun from '../../../src/checks/cluster/dry-run.js'
import quota from '../../../src/checks/cluster/quota.js'
import limitRange from '../../../src/checks/cluster/limit-range.js'
import readOnlyPolicy from '../../../src/checks/cluster/read-only-policy.js'
import leaked from '../../../src/checks/cluster/leaked-resources.js'
import scheduling, { helperPlatform, misfit } from '../../../src/checks/cluster/scheduling.js'
import webhooks from '../../../src/checks/cluster/webhooks.js'
import managerPod, { targetsWindows } from '../../../src/checks/cluster/manager-pod.js'
import pendingPods from '../../../src/checks/cluster/pending-pods.js'
import apiHealth from '../../../src/checks/cluster/api-health.js'
import { probeDns, probeMtu, probeStart } from '../../../src/checks/cluster/probe.js'

const TOML = `concurrent = 4\n[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine"\nservice_account = "runner"\ncpu_request = "1"\nmemory_request = "1Gi"\nimage_pull_secrets = ["corp"]\nruntime_class_name = "gvisor"\n[runners.kubernetes.node_selector]\n"kubernetes.io/os" = "linux"\n[runners.kubernetes.node_tolerations]\n"ci=true" = "NoSchedule"\n`
const config = parseConfigText(TOML, '/x/config.toml')
const runner = config.runners[0]!
const rendered = renderJob({ runner, variables: REPRESENTATIVE_JOB })
const NOW = '2026-11-24T12:00:00Z'

const ok = <K extends keyof FactTypes>(value: FactTypes[K]) => ({ ok: true as const, value })
function run(check: Check, facts: Facts) {
  return runCheck(check, { config, runner, facts: { now: ok<'now'>({ time: NOW }), ...facts }, rendered, options: { online: true, live: false } })
}

const node = (over: Partial<FactTypes['nodes'][number]> = {}): FactTypes['nodes'][number] => ({ name: 'n1', labels: { 'kubernetes.io/os': 'linux' }, taints: [{ key: 'ci', value: 'true', effect: 'NoSchedule' }], unschedulable: false, ready: true, allocatable: { cpu: '8', memory: '32Gi' }, ...over })
const meta = (name: string, over: Partial<FactTypes['secrets'][number]> = {}): FactTypes['secrets'][number] => ({ name, labels: {}, annotations: {}, ownerReferences: [], creationTimestamp: '2026-11-24T09:00:00Z', ...over })

describe('cluster checks (pure, over fixture facts)', () => {
  it("'cluster-permissions': missing required verbs fail with the rule to add; optional ones warn", () => {
    const access: FactTypes['access'] = [
      { verb: 'create', group: '', resource: 'pods', subresource: 'attach', namespace: 'ci', allowed: false, why: 'attach', optional: false, clusterScoped: false },
      { verb: 'list', group: '', resource: 'pods', namespace: 'ci', allowed: false, why: 'informer', optional: true, clusterScoped: false },
      { verb: 'create', group: '', resource: 'pods', namespace: 'ci', allowed: true, why: 'x', optional: false, clusterScoped: false },
    ]
    const r = run(permissions, { access: ok<'access'>(access) })
    expect(r.status).toBe('fail')
    expect(r.findings.map((f) => [f.severity, f.message.split(':')[0]])).toEqual([['fail', 'cannot create pods/attach in namespace ci'], ['warn', 'cannot list pods in namespace ci']])
    expect(r.findings[0]!.fix!.yaml).toBe('- apiGroups: [""]\n  resources: ["pods/attach"]\n  verbs: ["create"]')
    expect(run(permissions, { access: ok<'access'>([access[2]!]) }).status).toBe('pass')
    expect(run(permissions, { access: { ok: false, reason: 'forbidden', forbidden: { verb: 'create', resource: 'selfsubjectaccessreviews' } } }).reason).toBe('cannot create selfsubjectaccessreviews (forbidden)')
  })

  it("'cluster-permissions': a grant of everything is info (cluster-wide named over namespaced); missing verbs are grouped per namespace", () => {
    const broad = (namespace?: string): FactTypes['access'][number] => ({ verb: '*', group: '*', resource: '*', ...(namespace ? { namespace } : {}), allowed: true, why: 'every verb on every resource', optional: true, clusterScoped: !namespace, probe: 'broad' })
    const need = (namespace: string, allowed: boolean): FactTypes['access'][number] => ({ verb: 'create', group: '', resource: 'pods', namespace, allowed, why: 'creates the build pod', optional: false, clusterScoped: false })
    const ns = run(permissions, { access: ok<'access'>([need('ci', true), broad('ci'), { ...broad(), allowed: false }]) })
    expect(ns.status).toBe('info')
    expect(ns.findings.map((f) => f.message)).toEqual(["the runner's identity may do anything (every verb on every resource in namespace ci): far more than the executor uses, so a compromised job token or runner can change the namespace"])
    const cluster = run(permissions, { access: ok<'access'>([need('ci', true), broad('ci'), broad()]) })
    expect(cluster.findings.map((f) => f.details)).toEqual([{ scope: 'cluster' }])
    expect(run(permissions, { access: ok<'access'>([need('ci', true), { ...broad(), allowed: false }]) }).status).toBe('pass')
    const two = run(permissions, { access: ok<'access'>([need('ci', false), need('ci-team-a', false)]) })
    expect(two.findings.map((f) => f.message.split(':')[0])).toEqual(['cannot create pods in namespace ci', 'cannot create pods in namespace ci-team-a'])
  })

  it("'cluster-references': config map keys named by volume items, and CSI drivers, must exist", () => {
    const vtoml = `${TOML}[[runners.kubernetes.volumes.config_map]]\nname = "cfg"\nmount_path = "/cfg"\n[runners.kubernetes.volumes.config_map.items]\n"app.conf" = "app.conf"\n[[runners.kubernetes.volumes.csi]]\nname = "vault"\nmount_path = "/vault"\ndriver = "secrets-store.csi.k8s.io"\n`
    const vconfig = parseConfigText(vtoml, '/x/config.toml')
    const vrunner = vconfig.runners[0]!
    const vrendered = renderJob({ runner: vrunner, variables: REPRESENTATIVE_JOB })
    const base: Facts = { secrets: ok<'secrets'>([meta('corp')]), configMaps: ok<'configMaps'>([meta('cfg')]), pvcs: ok<'pvcs'>([]), serviceAccount: ok<'serviceAccount'>({ name: 'runner', exists: true }), classes: ok<'classes'>({ runtimeClass: { name: 'gvisor', exists: true } }) }
    const check = (facts: Facts) => runCheck(references, { config: vconfig, runner: vrunner, facts: { ...base, ...facts }, rendered: vrendered, options: { online: true, live: false } })
    expect(check({ configMapKeys: ok<'configMapKeys'>({ cfg: ['app.conf', 'other'] }), csiDrivers: ok<'csiDrivers'>(['secrets-store.csi.k8s.io']) }).status).toBe('pass')
    const r = check({ configMapKeys: ok<'configMapKeys'>({ cfg: ['other'] }), csiDrivers: ok<'csiDrivers'>(['ebs.csi.aws.com']) })
    expect(r.findings.map((f) => f.message)).toEqual([
      'volume cfg mounts key app.conf of configmap cfg, which has only other: the pod never starts (FailedMount: configmap references non-existent config key)',
      'volume vault uses CSI driver secrets-store.csi.k8s.io, which is not installed (installed: ebs.csi.aws.com): the pod never starts (driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers)',
    ])
    expect(r.findings.every((f) => f.catalog[0] === 'volume-source-missing')).toBe(true)
    // Keys or drivers that could not be read: nothing claimed.
    expect(check({}).status).toBe('pass')
  })

  it("'cluster-namespace': a missing namespace fails", () => {
    expect(run(namespace, { namespace: ok<'namespace'>({ name: 'ci-job-1', exists: false, labels: {}, createdPerJob: true }) }).status).toBe('pass')
    expect(run(namespace, { namespace: ok<'namespace'>({ name: 'ci', exists: true, labels: {} }) }).status).toBe('pass')
    const r = run(namespace, { namespace: ok<'namespace'>({ name: 'ci', exists: false, labels: {} }) })
    expect(r.findings[0]!.message).toBe('namespace ci does not exist: every job fails with \'namespaces "ci" not found\'')
  })

  it("'cluster-references': service account, pull secret and runtime class must exist", () => {
    const base = { secrets: ok<'secrets'>([meta('corp')]), configMaps: ok<'configMaps'>([]), pvcs: ok<'pvcs'>([]) }
    expect(run(references, { ...base, serviceAccount: ok<'serviceAccount'>({ name: 'runner', exists: true }), classes: ok<'classes'>({ runtimeClass: { name: 'gvisor', exists: true } }) }).status).toBe('pass')
    const r = run(references, { secrets: ok<'secrets'>([]), configMaps: ok<'configMaps'>([]), pvcs: ok<'pvcs'>([]), serviceAccount: ok<'serviceAccount'>({ name: 'runner', exists: false }), classes: ok<'classes'>({ runtimeClass: { name: 'gvisor', exists: false } }) })
    expect(r.findings.map((f) => f.catalog[0])).toEqual(['service-account-missing', 'image-pull-failed', 'runtime-class-missing'])
  })

  it("'cluster-dry-run': rejections are quoted and mapped to the catalog", () => {
    expect(run(dryRun, { dryRun: ok<'dryRun'>([{ kind: 'Pod', name: 'p', accepted: true }]) }).status).toBe('pass')
    const msg = 'secrets "runner-x-project-1-concurrent-0-abc" is forbidden: exceeded quota: all-resources, requested: secrets=1, used: secrets=10, limited: secrets=10'
    const r = run(dryRun, { dryRun: ok<'dryRun'>([{ kind: 'Secret', name: 's', accepted: false, status: 403, reason: 'Forbidden', message: msg }]) })
    expect(r.findings[0]!.catalog).toEqual(['quota-exceeded'])
    expect(r.findings[0]!.message).toContain(msg)
  })

  it("'cluster-quota': how many jobs fit, against concurrent", () => {
    const full = run(quota, { quotas: ok<'quotas'>([{ name: 'q', hard: { 'requests.cpu': '2' }, used: { 'requests.cpu': '1500m' } }]) })
    expect(full.findings[0]!.message).toMatch(/^quota q has no room for one more job: requests.cpu used 1500m of 2/)
    const some = run(quota, { quotas: ok<'quotas'>([{ name: 'q', hard: { 'requests.cpu': '3' }, used: { 'requests.cpu': '0' } }]) })
    expect(some.findings[0]).toMatchObject({ severity: 'warn', details: { fits: 3, concurrent: 4 } })
    expect(run(quota, { quotas: ok<'quotas'>([{ name: 'q', hard: { 'requests.cpu': '100' }, used: {} }]) }).status).toBe('pass')
    const secrets = run(quota, { quotas: ok<'quotas'>([{ name: 'q', hard: { secrets: '3' }, used: { secrets: '3' } }]), secrets: ok<'secrets'>([meta('runner-aaa-project-1-concurrent-0-abcdefgh')]) })
    expect(secrets.findings[0]!.message).toContain('1 of the used secrets look leaked by the runner')
  })

  it("'cluster-limit-range': the pod after LimitRange defaults against min, max and ratio, each with the key to set", () => {
    const lr = (limits: Array<Record<string, unknown>>) => ({ limitRanges: ok<'limitRanges'>([{ name: 'limits', limits }]) })
    expect(run(limitRange, lr([])).status).toBe('pass')
    expect(run(limitRange, lr([{ type: 'Container', max: { cpu: '4', memory: '8Gi' }, default: { cpu: '2', memory: '2Gi' } }])).status).toBe('pass')
    // A default limit below the request the config sets: the build container is rejected.
    const low = run(limitRange, lr([{ type: 'Container', default: { cpu: '500m' } }]))
    expect(low.status).toBe('fail')
    expect(low.findings.map((f) => f.message)).toEqual(["LimitRange limits rejects container build: build: requests.cpu 1 must be less than or equal to cpu limit 500m (the limit comes from LimitRange limits's default)"])
    expect(low.findings[0]!.fix!.toml).toBe('[[runners]]\n  [runners.kubernetes]\n    cpu_limit = "1"')
    expect(low.findings[0]!.catalog).toEqual(['limit-range-violation'])
    const min = run(limitRange, lr([{ type: 'Container', min: { memory: '2Gi' }, default: { memory: '4Gi' }, defaultRequest: { memory: '2Gi' } }]))
    expect(min.findings.map((f) => [f.details!.container, f.message.split(': ')[1], f.fix!.toml!.split('\n')[2]!.trim()])).toEqual([['build', 'minimum memory usage per Container is 2Gi, but request is 1Gi', 'memory_request = "2Gi"']])
    const max = run(limitRange, lr([{ type: 'Container', max: { cpu: '500m' } }]))
    expect(max.findings.map((f) => f.details!.key)).toContain('cpu_limit')
    expect(max.findings.map((f) => f.details!.key)).toContain('helper_cpu_limit')
    expect(max.findings.find((f) => f.details!.container === 'build')!.message).toBe('LimitRange limits rejects container build: maximum cpu usage per Container is 500m. No limit is specified')
    const ratio = run(limitRange, lr([{ type: 'Container', default: { cpu: '4' }, maxLimitRequestRatio: { cpu: '2' } }]))
    const build = ratio.findings.find((f) => f.details!.container === 'build')!
    expect(build.message).toBe('LimitRange limits rejects container build: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000')
    expect(build.fix!.toml).toContain('cpu_request = "2"')
  })

  it("'cluster-read-only-rootfs-policy': an enforcing policy for the namespace fails with the full TOML; audit-only is info; other namespaces are ignored", () => {
    const pol = (over: Partial<FactTypes['readOnlyPolicies'][number]>): FactTypes['readOnlyPolicies'][number] => ({ engine: 'kyverno', name: 'require-ro', enforced: true, appliesToNamespace: true, ...over })
    expect(run(readOnlyPolicy, { readOnlyPolicies: ok<'readOnlyPolicies'>([]) }).status).toBe('pass')
    expect(run(readOnlyPolicy, { readOnlyPolicies: ok<'readOnlyPolicies'>([pol({ appliesToNamespace: false })]) }).status).toBe('pass')
    const r = run(readOnlyPolicy, { readOnlyPolicies: ok<'readOnlyPolicies'>([pol({}), pol({ engine: 'gatekeeper', name: 'ro-audit', enforced: false }), pol({ engine: 'gatekeeper', name: 'k8spspreadonlyrootfilesystem', unknownConstraints: true })]) })
    expect(r.status).toBe('fail')
    expect(r.findings.map((f) => f.severity)).toEqual(['fail', 'info', 'warn'])
    expect(r.findings[0]!.message).toMatch(/^Kyverno policy require-ro only admits containers with a read-only root filesystem in namespace ci; containers [a-z-]*,? ?.*build, helper of the job pod have a writable one, so every job pod is rejected$/)
    const toml = r.findings[0]!.fix!.toml!
    for (const c of ['build', 'helper', 'init_permissions', 'service']) expect(toml).toContain(`[runners.kubernetes.${c}_container_security_context]\n    read_only_root_filesystem = true`)
    expect(toml).toContain('environment = ["HOME=/tmp"]')
    expect(toml).toContain('mount_path = "/builds"')
    // Every container already read-only: nothing to say.
    const ro = parseConfigText(`${TOML}[runners.kubernetes.build_container_security_context]\nread_only_root_filesystem = true\n[runners.kubernetes.helper_container_security_context]\nread_only_root_filesystem = true\n[runners.kubernetes.init_permissions_container_security_context]\nread_only_root_filesystem = true\n`, '/x/config.toml')
    const roRendered = renderJob({ runner: ro.runners[0]!, variables: REPRESENTATIVE_JOB })
    expect(runCheck(readOnlyPolicy, { config: ro, runner: ro.runners[0]!, facts: { readOnlyPolicies: ok<'readOnlyPolicies'>([pol({})]) }, rendered: roRendered, options: { online: true, live: false } }).status).toBe('pass')
  })

  it("'cluster-quota': quotas are charged the pod after the LimitRange defaults", () => {
    const quotas = ok<'quotas'>([{ name: 'q', hard: { 'limits.cpu': '4' }, used: {} }])
    expect(run(quota, { quotas }).status).toBe('pass')
    const r = run(quota, { quotas, limitRanges: ok<'limitRanges'>([{ name: 'limits', limits: [{ type: 'Container', default: { cpu: '2' } }] }]) })
    expect(r.findings[0]).toMatchObject({ severity: 'warn', details: { quota: 'q', resource: 'limits.cpu', fits: 1, concurrent: 4 } })
  })

  it("'cluster-leaked-resources': unowned runner secrets older than an hour", () => {
    const r = run(leaked, { secrets: ok<'secrets'>([meta('runner-aaa-project-1-concurrent-0-abcdefgh'), meta('runner-bbb-project-1-concurrent-0-abcdefgh', { creationTimestamp: '2026-11-24T11:59:00Z' }), meta('runner-ccc-project-1-concurrent-0-abcdefgh', { ownerReferences: [{ kind: 'Pod', name: 'p', uid: 'u' }] }), meta('app-secret')]) })
    expect(r.findings[0]!.details).toMatchObject({ count: 1, names: ['runner-aaa-project-1-concurrent-0-abcdefgh'] })
    expect(run(leaked, { secrets: ok<'secrets'>([meta('app')]) }).status).toBe('pass')
  })

  it("'cluster-leaked-resources': unowned config maps and services, runner pods running past the job timeout, leftover per-job namespaces; counted against quotas", () => {
    const pod = (name: string, phase: string, creationTimestamp: string): FactTypes['pods'][number] => ({ name, phase, labels: { 'job.runner.gitlab.com/pod': 'x' }, creationTimestamp, waiting: [] })
    const r = run(leaked, {
      secrets: ok<'secrets'>([meta('runner-aaa-project-1-concurrent-0-abcdefgh')]),
      configMaps: ok<'configMaps'>([meta('runner-aaa-project-1-concurrent-0-cm')]),
      services: ok<'services'>([meta('runner-aaa-project-1-concurrent-0-svc', { ownerReferences: [{ kind: 'Pod', name: 'p', uid: 'u' }] })]),
      pods: ok<'pods'>([pod('runner-aaa-project-1-concurrent-0-old', 'Running', '2026-11-24T10:00:00Z'), pod('runner-aaa-project-1-concurrent-1-new', 'Running', '2026-11-24T11:30:00Z'), pod('runner-aaa-project-1-concurrent-2-pend', 'Pending', '2026-11-24T08:00:00Z')]),
      jobNamespaces: ok<'jobNamespaces'>([meta('ci-job-41'), meta('ci-job-42', { creationTimestamp: '2026-11-24T11:50:00Z' })]),
      quotas: ok<'quotas'>([{ name: 'q', hard: { 'count/configmaps': '10', secrets: '5' }, used: {} }]),
    })
    expect(r.status).toBe('warn')
    expect(r.findings.map((f) => [f.details!.kind, f.details!.names])).toEqual([
      ['secrets', ['runner-aaa-project-1-concurrent-0-abcdefgh']],
      ['configmaps', ['runner-aaa-project-1-concurrent-0-cm']],
      ['pods', ['runner-aaa-project-1-concurrent-0-old']],
      ['namespaces', ['ci-job-41']],
    ])
    expect(r.findings[0]!.message).toContain('they count against the secrets quota')
    expect(r.findings[1]!.message).toContain('they count against the count/configmaps quota')
    expect(r.findings[2]!.message).toMatch(/^1 runner pod is still Running after the default job timeout of 1 h \(runner-aaa-project-1-concurrent-0-old\)/)
  })

  it("'cluster-scheduling': no node matching selector, taints or room fails with the scheduler's reasons", () => {
    expect(run(scheduling, { nodes: ok<'nodes'>([node()]) }).status).toBe('pass')
    const r = run(scheduling, { nodes: ok<'nodes'>([node({ labels: { 'kubernetes.io/os': 'windows' } }), node({ name: 'n2', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), node({ name: 'n3', allocatable: { cpu: '500m', memory: '1Gi' } })]) })
    expect(r.findings[0]!.message).toBe("no node can run the job pod (0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s)): pods stay Pending until poll_timeout fails the job")
    // A node failing both is reported by the filter kube-scheduler runs first: TaintToleration.
    const both = run(scheduling, { nodes: ok<'nodes'>([node({ labels: { 'kubernetes.io/os': 'windows' }, taints: [{ key: 'gpu', effect: 'NoSchedule' }] })]) })
    expect(both.findings[0]!.message).toContain('(0/1 nodes are available: 1 node(s) had untolerated taint(s))')
  })

  it("'cluster-scheduling': the helper image's OS/architecture against the nodes the pod fits", () => {
    expect(helperPlatform('registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:ubuntu-arm64-v17.9.0')).toEqual({ os: 'linux', arch: 'arm64' })
    expect(helperPlatform('registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.9.0-servercore21H2')).toEqual({ os: 'windows', arch: 'amd64' })
    expect(helperPlatform('alpine:3.20')).toBeUndefined()
    const arm = node({ name: 'arm-1', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' } })
    const amd = node({ name: 'amd-1', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } })
    const all = run(scheduling, { nodes: ok<'nodes'>([arm]) })
    expect(all.status).toBe('fail')
    expect(all.findings[0]!.message).toBe('the helper image is built for linux/amd64, but every node the pod fits is linux/arm64 (arm-1): the helper fails there with "exec format error"')
    expect(all.findings[0]!.fix!.toml).toContain('"kubernetes.io/arch" = "amd64"')
    const some = run(scheduling, { nodes: ok<'nodes'>([arm, amd]) })
    expect(some.findings.map((f) => [f.severity, f.message.split(':')[0]])).toEqual([['warn', 'the helper image is built for linux/amd64, but 1 of the 2 nodes the pod fits is linux/arm64 (arm-1)']])
    expect(run(scheduling, { nodes: ok<'nodes'>([amd]) }).status).toBe('pass')
  })

  it("'cluster-scheduling': required node affinity terms (OR of ANDed expressions)", () => {
    const withAffinity = (exprs: Array<{ key: string; operator: string; values?: string[] }>[]) => ({ ...rendered, pod: { ...rendered.pod, spec: { ...rendered.pod.spec!, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: exprs.map((matchExpressions) => ({ matchExpressions })) } } } } } })
    const n = node({ labels: { 'kubernetes.io/os': 'linux', pool: 'ci', size: '8' } })
    expect(misfit(n, withAffinity([[{ key: 'pool', operator: 'In', values: ['ci'] }, { key: 'size', operator: 'Gt', values: ['4'] }]]))).toBeUndefined()
    expect(misfit(n, withAffinity([[{ key: 'pool', operator: 'In', values: ['gpu'] }]]))).toBe("node(s) didn't match Pod's node affinity/selector")
    expect(misfit(n, withAffinity([[{ key: 'pool', operator: 'In', values: ['gpu'] }], [{ key: 'spot', operator: 'DoesNotExist' }]]))).toBeUndefined()
    expect(misfit(n, withAffinity([[{ key: 'pool', operator: 'NotIn', values: ['ci'] }]]))).toBe("node(s) didn't match Pod's node affinity/selector")
  })

  it("'cluster-manager-pod': with Windows jobs, doctor's own pod (the runner manager) must be on a Linux node", () => {
    const wtoml = TOML.replace('"kubernetes.io/os" = "linux"', '"kubernetes.io/os" = "windows"\n"node.kubernetes.io/windows-build" = "10.0.20348"')
    const wconfig = parseConfigText(wtoml, '/x/config.toml')
    const wrunner = wconfig.runners[0]!
    const wrendered = renderJob({ runner: wrunner, variables: REPRESENTATIVE_JOB })
    expect([targetsWindows(wrendered), targetsWindows(rendered)]).toEqual([true, false])
    const pod = (over: Partial<NonNullable<FactTypes['managerPod']>> = {}, labels: Record<string, string> | null = { 'kubernetes.io/os': 'linux' }): Facts => ({
      managerPod: ok<'managerPod'>({ name: 'gitlab-runner-7d9f-abcde', namespace: 'gitlab-runner', nodeName: 'node-a', nodeSelector: {}, node: labels ? { ok: true, value: { name: 'node-a', labels } } : { ok: false, reason: 'nodes "node-a" is forbidden', forbidden: { verb: 'get', resource: 'nodes' } }, ...over }),
    })
    const check = (facts: Facts) => runCheck(managerPod, { config: wconfig, runner: wrunner, facts, rendered: wrendered, options: { online: true, live: false } })

    const win = check(pod({}, { 'kubernetes.io/os': 'windows' }))
    expect(win.status).toBe('fail')
    expect(win.findings[0]!.message).toBe('the runner manager pod gitlab-runner/gitlab-runner-7d9f-abcde (doctor\'s own pod) runs on node node-a, a windows node: the manager must run on Linux and reach Windows nodes only through the jobs\' node_selector; on a Windows node its own service account token volume fails to mount ("chown is not supported by windows")')
    expect(win.findings[0]!.catalog).toEqual(['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'])
    expect(win.findings[0]!.fix!.yaml).toContain('# Helm chart values.yaml\nnodeSelector:\n  kubernetes.io/os: linux\n')
    expect(win.findings[0]!.at).toMatchObject({ file: '/x/config.toml', line: 14, path: 'runners[0].kubernetes.node_selector' })
    expect(win.findings[0]!.details).toEqual({ pod: 'gitlab-runner/gitlab-runner-7d9f-abcde', node: 'node-a', nodeOs: 'windows', pinnedOs: null })
    // A node without kubernetes.io/os=linux is not known to be Linux.
    expect(check(pod({}, { 'kubernetes.io/hostname': 'node-a' })).findings[0]!.message).toContain('runs on node node-a, which has no kubernetes.io/os label')
    // Pinned to Linux: pass, even when the node cannot be read (the scheduler honoured the selector).
    expect(check(pod({ nodeSelector: { 'kubernetes.io/os': 'linux' } })).status).toBe('pass')
    expect(check(pod({ nodeSelector: { 'kubernetes.io/os': 'linux' } }, null)).status).toBe('pass')
    expect(check(pod({ affinityOs: ['linux'] }, null)).status).toBe('pass')
    // Pinned to Windows by its own selector: fail without reading the node.
    expect(check(pod({ nodeSelector: { 'kubernetes.io/os': 'windows' } }, null)).findings[0]!.message).toContain('runs on nodes with kubernetes.io/os=windows (its nodeSelector)')
    // On Linux by chance: advice to pin it.
    const chance = check(pod())
    expect([chance.status, chance.findings[0]!.message]).toEqual(['info', 'the runner manager pod gitlab-runner/gitlab-runner-7d9f-abcde runs on Linux node node-a, but nothing in the pod pins it to Linux: in a cluster with Windows nodes a restart may place it on one'])
    // The node could not be read and nothing pins the pod: skipped, naming the verb.
    expect(check(pod({}, null))).toMatchObject({ status: 'skipped', reason: 'cannot tell the OS of node node-a that the runner manager pod gitlab-runner/gitlab-runner-7d9f-abcde runs on: cannot get nodes (forbidden); and the pod has no nodeSelector kubernetes.io/os: linux that would settle it' })
    // The pod itself could not be read: skipped by the fact, naming the verb.
    expect(check({ managerPod: { ok: false, reason: 'forbidden', forbidden: { verb: 'get', resource: 'pods', namespace: 'gitlab-runner' } } }).reason).toBe('cannot get pods in namespace gitlab-runner (forbidden)')
    // Not in-cluster: skipped with the reason; Linux jobs: nothing to judge (pass, wherever the manager runs); offline: needs the fact.
    expect(check({ managerPod: ok<'managerPod'>(null) }).reason).toMatch(/^doctor is not running in-cluster \(it reached the cluster through a kubeconfig or the runner's host setting\)/)
    expect([run(managerPod, pod({}, { 'kubernetes.io/os': 'windows' })).status, run(managerPod, { managerPod: ok<'managerPod'>(null) }).status]).toEqual(['pass', 'pass'])
    expect(runCheck(managerPod, { config: wconfig, runner: wrunner, facts: {}, rendered: wrendered, options: { online: false, live: false } }).reason).toBe('offline: needs managerPod facts')
  })

  it("'cluster-webhooks': slow fail-closed webhooks on job pods warn; dry-run-unsafe ones are noted", () => {
    const wh = (over: Partial<FactTypes['webhooks'][number]>): FactTypes['webhooks'][number] => ({ configuration: 'c', name: 'w.example.com', kind: 'validating', failurePolicy: 'Fail', sideEffects: 'None', timeoutSeconds: 30, interceptsPods: true, ...over })
    expect(run(webhooks, { webhooks: ok<'webhooks'>([wh({ interceptsPods: false })]) }).status).toBe('pass')
    const r = run(webhooks, { webhooks: ok<'webhooks'>([wh({}), wh({ name: 'x', timeoutSeconds: 5, sideEffects: 'Unknown' })]) })
    expect(r.findings.map((f) => f.severity)).toEqual(['warn', 'info'])
    // A slow webhook that is not a known injector gets no pod_labels snippet to paste.
    expect(r.findings[0]!.fix!.toml).toBeUndefined()
  })

  it("'cluster-webhooks': a fail-closed webhook without ready endpoints fails every job; fail-open only warns; unknown readiness says nothing", () => {
    const wh = (over: Partial<FactTypes['webhooks'][number]>): FactTypes['webhooks'][number] => ({ configuration: 'policy', name: 'policy.example.com', kind: 'validating', failurePolicy: 'Fail', sideEffects: 'None', timeoutSeconds: 5, interceptsPods: true, intercepts: ['pods', 'secrets'], service: { namespace: 'policy-system', name: 'policy' }, ...over })
    const r = run(webhooks, { webhooks: ok<'webhooks'>([wh({ readyEndpoints: 0 })]) })
    expect(r.status).toBe('fail')
    expect(r.findings[0]!.message).toBe('validating webhook policy.example.com intercepts job pods, secrets with failurePolicy Fail, and its service policy-system/policy has no ready endpoints: every job fails at create with \'failed calling webhook "policy.example.com": … no endpoints available for service "policy"\'')
    expect(r.findings[0]!.catalog).toEqual(['webhook-denied'])
    expect(run(webhooks, { webhooks: ok<'webhooks'>([wh({ readyEndpoints: 0, failurePolicy: 'Ignore' })]) }).findings.map((f) => f.severity)).toEqual(['warn'])
    expect(run(webhooks, { webhooks: ok<'webhooks'>([wh({ readyEndpoints: 2 })]) }).status).toBe('pass')
    expect(run(webhooks, { webhooks: ok<'webhooks'>([wh({})]) }).status).toBe('pass')
    // Only secrets caught (the pod is excluded by its objectSelector): still in the path of every job.
    expect(run(webhooks, { webhooks: ok<'webhooks'>([wh({ interceptsPods: false, intercepts: ['secrets'], readyEndpoints: 0 })]) }).findings[0]!.message).toMatch(/^validating webhook policy.example.com intercepts job secrets with failurePolicy Fail/)
  })

  it("'cluster-webhooks': known injectors (Datadog, Istio, Linkerd) name the label or annotation that opts job pods out", () => {
    const wh = (name: string, configuration: string): FactTypes['webhooks'][number] => ({ configuration, name, kind: 'mutating', failurePolicy: 'Ignore', sideEffects: 'None', timeoutSeconds: 10, interceptsPods: true, intercepts: ['pods'] })
    const r = run(webhooks, { webhooks: ok<'webhooks'>([wh('datadog.webhook.datadoghq.com', 'datadog-webhook'), wh('sidecar-injector.istio.io', 'istio-sidecar-injector'), wh('linkerd-proxy-injector.linkerd.io', 'linkerd-proxy-injector-webhook-config'), wh('other.example.com', 'other')]) })
    expect(r.status).toBe('warn')
    expect(r.findings.map((f) => f.fix!.toml)).toEqual([
      '[[runners]]\n  [runners.kubernetes.pod_labels]\n    "admission.datadoghq.com/enabled" = "false"',
      '[[runners]]\n  [runners.kubernetes.pod_labels]\n    "sidecar.istio.io/inject" = "false"',
      '[[runners]]\n  [runners.kubernetes.pod_annotations]\n    "linkerd.io/inject" = "disabled"',
    ])
    expect(r.findings[1]!.message).toMatch(/^mutating webhook sidecar-injector.istio.io is the Istio sidecar injector: it adds an istio-proxy sidecar/)
    // Already opted out: nothing to say.
    const optedOut = parseConfigText(`${TOML}[runners.kubernetes.pod_labels]\n"admission.datadoghq.com/enabled" = "false"\n`, '/x/config.toml')
    const r2 = runCheck(webhooks, { config: optedOut, runner: optedOut.runners[0]!, facts: { webhooks: ok<'webhooks'>([wh('datadog.webhook.datadoghq.com', 'datadog-webhook')]) }, rendered: renderJob({ runner: optedOut.runners[0]!, variables: REPRESENTATIVE_JOB }), options: { online: true, live: false } })
    expect(r2.status).toBe('pass')
  })

  it("'cluster-pending-pods': pods stuck past poll_timeout, image pull failures, scheduler warnings", () => {
    const r = run(pendingPods, { pods: ok<'pods'>([{ name: 'runner-a-project-1-concurrent-0-x', phase: 'Pending', labels: {}, creationTimestamp: '2026-11-24T11:00:00Z', waiting: [] }, { name: 'runner-b-project-1-concurrent-0-y', phase: 'Pending', labels: {}, waiting: ['ImagePullBackOff'] }]), events: ok<'events'>([{ type: 'Warning', reason: 'FailedScheduling', message: '0/3 nodes are available', involvedObject: 'runner-a-project-1-concurrent-0-x' }]) })
    expect(r.findings.map((f) => f.message)).toEqual(['pod runner-a-project-1-concurrent-0-x has been Pending for 3600 s, longer than poll_timeout (180 s)', 'pod runner-b-project-1-concurrent-0-y cannot pull an image (ImagePullBackOff)', 'scheduler warnings for runner pods: 0/3 nodes are available'])
    expect(run(pendingPods, { pods: ok<'pods'>([]), events: ok<'events'>([]) }).status).toBe('pass')
    // A pull failure points at the image pull secrets (here set; else the image), the other two at what they are about.
    expect(r.findings.map((f) => String(f.at?.path).split('.').at(-1))).toEqual(['poll_timeout', 'image_pull_secrets', 'node_selector'])
  })

  it("'cluster-pending-pods': image-pull warning events of the last hour, once per pod, also for pods already gone", () => {
    const ev = (involvedObject: string, reason: string, message: string, lastTimestamp: string): FactTypes['events'][number] => ({ type: 'Warning', reason, message, involvedObject, lastTimestamp })
    const r = run(pendingPods, {
      pods: ok<'pods'>([{ name: 'runner-b-project-1-concurrent-0-y', phase: 'Pending', labels: {}, waiting: ['ImagePullBackOff'] }]),
      events: ok<'events'>([
        ev('runner-a-project-1-concurrent-0-gone', 'Failed', 'Failed to pull image "corp/app:1": pull access denied', '2026-11-24T11:40:00Z'),
        ev('runner-a-project-1-concurrent-0-gone', 'BackOff', 'Back-off pulling image "corp/app:1"', '2026-11-24T11:45:00Z'),
        ev('runner-b-project-1-concurrent-0-y', 'Failed', 'Failed to pull image "x"', '2026-11-24T11:50:00Z'),
        ev('runner-c-project-1-concurrent-0-old', 'Failed', 'Failed to pull image "y"', '2026-11-24T09:00:00Z'),
        ev('runner-d-project-1-concurrent-0-z', 'Failed', 'Error: container create failed', '2026-11-24T11:50:00Z'),
      ]),
    })
    expect(r.findings.map((f) => f.message)).toEqual([
      'pod runner-b-project-1-concurrent-0-y cannot pull an image (ImagePullBackOff)',
      'pod runner-a-project-1-concurrent-0-gone failed to pull an image in the last hour: Failed to pull image "corp/app:1": pull access denied',
    ])
  })

  it("'cluster-api-health': slow answers and server-side errors warn", () => {
    expect(run(apiHealth, { apiStats: ok<'apiStats'>({ requests: 30, roundTrips: 3, errors: 1, serverErrors: 0, durationMs: 100, p95Ms: 20 }) }).status).toBe('pass')
    expect(run(apiHealth, { apiStats: ok<'apiStats'>({ requests: 30, roundTrips: 3, errors: 3, serverErrors: 3, durationMs: 100, p95Ms: 3000 }) }).findings).toHaveLength(2)
    expect(run(apiHealth, { apiStats: ok<'apiStats'>({ requests: 33, roundTrips: 3, errors: 3, serverErrors: 3, retries: 3, durationMs: 100, p95Ms: 20 }) }).findings.map((f) => f.message)).toEqual([
      '3 of 33 API requests failed on the server side (5xx, throttling or dropped connections); doctor needed 3 retries (as the runner would, within retry_limit) to get its answers: jobs meet the same errors ("etcdserver: leader changed", "context deadline exceeded")',
    ])
  })

  it("'cluster-probe-dns', 'cluster-probe-mtu', 'cluster-probe-start': judging what the --live probe saw", () => {
    const probe = (over: Partial<FactTypes['probe']> = {}): Facts => ({ probe: ok<'probe'>({ dns: [{ host: 'gitlab.example.com', resolved: true }, { host: 'kubernetes.default.svc', resolved: true }], mtu: 1500, events: [], timeToReadyMs: 2000, ...over }) })
    expect(run(probeDns, probe()).status).toBe('pass')
    expect(run(probeDns, probe({ dns: [{ host: 'gitlab.example.com', resolved: false, error: 'gitlab.example.com did not resolve' }] })).findings[0]!.message).toMatch(/^a job pod cannot resolve gitlab.example.com/)
    expect(run(probeMtu, probe()).status).toBe('pass')
    expect(run(probeMtu, probe({ mtu: 1400 })).findings[0]).toMatchObject({ severity: 'info', message: 'the pod network MTU is 1400: Docker-in-Docker services need --mtu=1400' })
    expect(run(probeStart, probe()).status).toBe('pass')
    expect(run(probeStart, probe({ timeToReadyMs: 200_000 })).findings[0]).toMatchObject({ severity: 'fail', message: 'a job-shaped pod took 200 s to start; poll_timeout is 180 s' })
    expect(run(probeStart, probe({ error: 'timed out waiting for pod to start (last phase: Pending)' })).findings[0]!.message).toMatch(/^the probe pod did not run: timed out/)
    expect(runCheck(probeDns, { config, runner, facts: {}, rendered, options: { online: true, live: false } }).reason).toBe('needs --live (a short-lived probe pod)')
  })
})
