import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import * as k8s from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { parseConfigText } from '../../src/config/load.js'
import { parseCiSource } from '../../src/ci/parse.js'
import type { CiJob } from '../../src/ci/types.js'
import { renderJob, imageAliases, globToRegExp } from '../../src/executor/render.js'
import { objectsYaml } from '../../src/executor/output.js'
import { shortenToken, makeRfc1123Compatible, sanitizeLabel, generateResourceName, seededRandom } from '../../src/executor/names.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'
import Render from '../../src/commands/render.js'

const runner = (kube: string, extra = '', flags = ''): ReturnType<typeof parseConfigText>['runners'][number] =>
  parseConfigText(`[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n${extra}\n[runners.feature_flags]\n${flags}\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n${kube}\n`, '/x/config.toml').runners[0]!

const job = (over: Partial<CiJob> = {}): CiJob => ({ name: 'test', stage: 'test', services: [], variables: {}, before_script: [], script: ['true'], after_script: [], cache: [], artifacts: { paths: [] }, unsupported: [], ...over })
const container = (pod: k8s.V1Pod, name: string): k8s.V1Container => [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers].find((c) => c.name === name)!

/** Walks an object against the client library's model type maps: no unknown or mistyped field. */
function validate(value: unknown, type: string, at: string, errors: string[]): void {
  if (value === undefined || value === null) return
  const arr = /^Array<(.+)>$/.exec(type)
  if (arr) {
    if (!Array.isArray(value)) errors.push(`${at}: expected array`)
    else value.forEach((v, i) => validate(v, arr[1]!, `${at}[${i}]`, errors))
    return
  }
  if (/^\{ \[key: string\]: (.+); \}$/.test(type)) {
    const inner = /^\{ \[key: string\]: (.+); \}$/.exec(type)![1]!
    if (typeof value !== 'object') errors.push(`${at}: expected map`)
    else for (const [k, v] of Object.entries(value)) validate(v, inner, `${at}.${k}`, errors)
    return
  }
  if (type === 'string' || type === 'number' || type === 'boolean') {
    if (typeof value !== type) errors.push(`${at}: expected ${type}, got ${typeof value}`)
    return
  }
  if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') errors.push(`${at}: expected int or string`)
    return
  }
  if (type === 'Date' || type === 'any' || type === 'object') return
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Array<{ name: string; baseName: string; type: string }> }>)[type]
  if (!model?.getAttributeTypeMap) {
    errors.push(`${at}: unknown model ${type}`)
    return
  }
  const attrs = model.getAttributeTypeMap()
  for (const [key, v] of Object.entries(value as object)) {
    const a = attrs.find((x) => x.baseName === key)
    if (!a) errors.push(`${at}.${key}: not a field of ${type}`)
    else validate(v, a.type, `${at}.${key}`, errors)
  }
}

describe('names', () => {
  it('shortens tokens and builds names as the runner does', () => {
    expect(shortenToken('glrt-aaa_cccbbbdddooo2222')).toBe('aaa_cccbb')
    expect(shortenToken('glrt-t1_abcdefghijkl')).toBe('abcdefghi')
    expect(shortenToken('GR1348941abcdefghijk')).toBe('abcdefghi')
    expect(makeRfc1123Compatible('runner-aaa_cccbb-project-7-concurrent-0')).toBe('runner-aaacccbb-project-7-concurrent-0')
    expect(sanitizeLabel('-my label/with:chars-')).toBe('my_label_with_chars')
    const n = generateResourceName('x'.repeat(70), seededRandom(1))
    expect(n).toMatch(/^x{54}-[a-z0-9]{8}$/)
  })

  it('derives service host names from images', () => {
    expect(imageAliases('docker:dind')).toEqual(['docker'])
    expect(imageAliases('registry.example.com/tools/db:1')).toEqual(['tools-db']) // tools__db is not a valid DNS name
    expect(globToRegExp('registry.example.com/**').test('registry.example.com/a/b:1')).toBe(true)
    expect(globToRegExp('docker:*').test('docker:27-dind')).toBe(true)
    expect(globToRegExp('docker:*').test('library/docker:27')).toBe(false)
  })
})

describe('rendering the build pod', () => {
  it('containers, init-permissions, mounts and names (attach strategy)', () => {
    const r = renderJob({ runner: runner('') })
    const pod = r.pod
    expect(pod.metadata!.name).toMatch(/^runner-abcdefghi-project-1-concurrent-0-[a-z0-9]{8}$/)
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(['build', 'helper'])
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['init-permissions'])
    expect(container(pod, 'build').volumeMounts!.map((m) => [m.name, m.mountPath])).toEqual([['scripts', '/scripts-1-1'], ['logs', '/logs-1-1'], ['repo', '/builds']])
    expect(pod.spec!.volumes!.map((v) => v.name)).toEqual(['repo', 'scripts', 'logs'])
    expect(pod.spec!.restartPolicy).toBe('Never')
    expect(container(pod, 'helper').env).toBeUndefined()
    expect(container(pod, 'helper').image).toBe('registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v19.4.0')
  })

  it('legacy exec strategy: no init-permissions, no scripts or logs volumes', () => {
    const pod = renderJob({ runner: runner('', '', 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true') }).pod
    expect(pod.spec!.initContainers).toBeUndefined()
    expect(pod.spec!.volumes!.map((v) => v.name)).toEqual(['repo'])
  })

  it('honours the image entrypoint with FF_KUBERNETES_HONOR_ENTRYPOINT (shell in args, not command)', () => {
    const pod = renderJob({ runner: runner('', '', 'FF_KUBERNETES_HONOR_ENTRYPOINT = true') }).pod
    expect(container(pod, 'build').command).toBeUndefined()
    expect(container(pod, 'build').args![0]).toBe('sh')
  })

  it('feature flags from the job\'s variables apply, unless [runners.feature_flags] sets the flag', () => {
    const r = renderJob({ runner: runner(''), job: job({ variables: { FF_KUBERNETES_HONOR_ENTRYPOINT: 'true', FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: 'true' } }) })
    expect(container(r.pod, 'build').command).toBeUndefined()
    expect(r.pod.spec!.initContainers).toBeUndefined()
    expect(r.notes).toContain('feature flags set by the job\'s variables: FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY=true, FF_KUBERNETES_HONOR_ENTRYPOINT=true')
    const pinned = renderJob({ runner: runner('', '', 'FF_KUBERNETES_HONOR_ENTRYPOINT = false'), job: job({ variables: { FF_KUBERNETES_HONOR_ENTRYPOINT: 'true' } }) })
    expect(container(pinned.pod, 'build').command![0]).toBe('sh')
  })

  it('labels and annotations with exact keys; reserved label domains cannot be overwritten', () => {
    const r = renderJob({ runner: runner('[runners.kubernetes.pod_labels]\nteam = "ci"\n"job.runner.gitlab.com/pod" = "evil"\n[runners.kubernetes.pod_annotations]\n"job.runner.gitlab.com/name" = "custom"'), job: job() })
    const l = r.pod.metadata!.labels!
    expect(Object.keys(l)).toEqual(expect.arrayContaining(['pod', 'project.runner.gitlab.com/id', 'job.runner.gitlab.com/pod', 'manager.runner.gitlab.com/name', 'manager.runner.gitlab.com/id-short', 'team']))
    expect(l['job.runner.gitlab.com/pod']).toBe('runner-abcdefghi-project-1-concurrent-0')
    expect(r.notes.join('\n')).toMatch(/not setting pod label "job.runner.gitlab.com\/pod"/)
    expect(r.pod.metadata!.annotations!['job.runner.gitlab.com/name']).toBe('custom')
    expect(r.pod.metadata!.annotations!['job.runner.gitlab.com/timeout']).toBe('1h0m0s')
  })

  it('pull policies: runner names to Kubernetes names, and a job policy outside the allow-list is refused', () => {
    const ok = renderJob({ runner: runner('pull_policy = ["if-not-present", "always"]'), job: job({ image: { name: 'node:22', pull_policy: ['always'] } }) })
    expect(container(ok.pod, 'build').imagePullPolicy).toBe('Always')
    expect(container(ok.pod, 'helper').imagePullPolicy).toBe('Always')
    const bad = renderJob({ runner: runner('allowed_pull_policies = ["if-not-present"]'), job: job({ image: { name: 'node:22', pull_policy: ['always'] } }) })
    expect(bad.problems[0]!.message).toBe('invalid pull policy for container "build": pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([IfNotPresent])')
  })

  it('pull policies: without allowed_pull_policies the allow-list is pull_policy, or nothing when that is unset too', () => {
    // The troubleshooting page's case: a job sets pull_policy and the runner configures none.
    const none = renderJob({ runner: runner(''), job: job({ image: { name: 'node:22', pull_policy: ['always'] } }) })
    expect(none.problems.map((p) => p.message)).toEqual(['invalid pull policy for container "build": pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([])', 'invalid pull policy for container "helper": pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([])']) // init-permissions shares the helper's decision
    const narrower = renderJob({ runner: runner('pull_policy = ["if-not-present"]'), job: job({ image: { name: 'node:22', pull_policy: ['always', 'if-not-present'] } }) })
    expect(narrower.problems).toEqual([])
    expect(container(narrower.pod, 'build').imagePullPolicy).toBe('IfNotPresent')
    // allowed_pull_policies set, pull_policy not: jobs without their own policy are refused ("Runner config (default)").
    const byDefault = renderJob({ runner: runner('allowed_pull_policies = ["if-not-present"]') })
    expect(byDefault.problems[0]!.message).toBe('invalid pull policy for container "build": pull_policy ([]) defined in Runner config (default) is not one of the allowed_pull_policies ([IfNotPresent])')
    const fallback = renderJob({ runner: runner('pull_policy = ["always", "if-not-present"]') })
    expect(container(fallback.pod, 'build').imagePullPolicy).toBe('Always')
    expect(fallback.notes.join('\n')).toContain('Using effective pull policy of [Always IfNotPresent] for container build (and helper, init-permissions)')
    expect(renderJob({ runner: runner('pull_policy = "sometimes"') }).problems.map((p) => p.message)).toEqual(['getting allowed pull policies: pull_policy config: unsupported pull policy: "sometimes"'])
  })

  it('capabilities: NET_RAW dropped by default; cap_add removes it from the drop list; container lists replace the global ones', () => {
    expect(container(renderJob({ runner: runner('') }).pod, 'build').securityContext!.capabilities).toEqual({ drop: ['NET_RAW'] })
    expect(container(renderJob({ runner: runner('cap_add = ["NET_RAW", "SYS_TIME"]') }).pod, 'build').securityContext!.capabilities).toEqual({ add: ['NET_RAW', 'SYS_TIME'] })
    expect(container(renderJob({ runner: runner('cap_drop = ["SYS_TIME"]') }).pod, 'build').securityContext!.capabilities).toEqual({ drop: ['NET_RAW', 'SYS_TIME'] })
    const pod = renderJob({ runner: runner('cap_add = ["SYS_TIME"]\n[runners.kubernetes.build_container_security_context.capabilities]\ndrop = ["ALL"]') }).pod
    expect(container(pod, 'build').securityContext!.capabilities).toEqual({ add: ['SYS_TIME'], drop: ['ALL'] })
  })

  it('privileged and allow_privilege_escalation: container value wins over the global one', () => {
    const pod = renderJob({ runner: runner('privileged = true\nallow_privilege_escalation = true\n[runners.kubernetes.helper_container_security_context]\nprivileged = false') }).pod
    expect(container(pod, 'build').securityContext).toMatchObject({ privileged: true, allowPrivilegeEscalation: true })
    expect(container(pod, 'helper').securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: true })
  })

  it('tolerations from the "key=value" = "Effect" table', () => {
    const pod = renderJob({ runner: runner('[runners.kubernetes.node_tolerations]\n"node-role.kubernetes.io/master" = "NoSchedule"\n"custom=value" = "NoSchedule"\n"empty.value=" = "PreferNoSchedule"\n"onlyKey" = ""') }).pod
    expect(pod.spec!.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'custom', operator: 'Equal', value: 'value', effect: 'NoSchedule' },
      { key: 'empty.value', operator: 'Equal', value: '', effect: 'PreferNoSchedule' },
      { key: 'onlyKey', operator: 'Exists' },
    ])
  })

  it('tolerations: KUBERNETES_NODE_TOLERATIONS_* ("key[=value][:effect]") only within node_tolerations_overwrite_allowed, replacing the config entry of the same key', () => {
    const cfg = 'node_tolerations_overwrite_allowed = "^gpu"\n[runners.kubernetes.node_tolerations]\n"gpu=a100" = "NoSchedule"\n"spot" = "NoExecute"'
    const ok = renderJob({ runner: runner(cfg), job: job({ variables: { KUBERNETES_NODE_TOLERATIONS_1: 'gpu=a100:PreferNoSchedule', KUBERNETES_NODE_TOLERATIONS_2: 'gpu-large' } }) })
    expect(ok.problems).toEqual([])
    expect(ok.pod.spec!.tolerations).toEqual([
      { key: 'gpu', operator: 'Equal', value: 'a100', effect: 'PreferNoSchedule' },
      { key: 'spot', operator: 'Exists', effect: 'NoExecute' },
      { key: 'gpu-large', operator: 'Exists' },
    ])
    const refused = renderJob({ runner: runner(cfg), job: job({ variables: { KUBERNETES_NODE_TOLERATIONS_1: 'dedicated=prod:NoSchedule' } }) })
    expect(refused.problems.map((p) => p.message)).toEqual(['couldn\'t prepare overwrites: provided value "dedicated=prod:NoSchedule" does not match "^gpu"'])
    expect(refused.pod.spec!.tolerations).toHaveLength(2)
    // Without the allow-list the variables are ignored.
    expect(renderJob({ runner: runner(''), job: job({ variables: { KUBERNETES_NODE_TOLERATIONS_1: 'x:NoSchedule' } }) }).pod.spec!.tolerations).toBeUndefined()
  })

  it('pod-level resources from pod_cpu_* / pod_memory_*, with KUBERNETES_POD_* overwrites up to the maximum', () => {
    expect(renderJob({ runner: runner('') }).pod.spec!.resources).toBeUndefined()
    const r = renderJob({ runner: runner('pod_cpu_request = "1"\npod_memory_limit = "4Gi"\npod_memory_limit_overwrite_max_allowed = "8Gi"'), job: job({ variables: { KUBERNETES_POD_MEMORY_LIMIT: '6Gi' } }) })
    expect(r.pod.spec!.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '6Gi' } })
    expect(r.notes.join('\n')).toContain('PodLevelResources')
  })

  it('DNS policy names; an unknown one falls back with the runner\'s warning', () => {
    expect(renderJob({ runner: runner('dns_policy = "cluster-first-with-host-net"') }).pod.spec!.dnsPolicy).toBe('ClusterFirstWithHostNet')
    const r = renderJob({ runner: runner('dns_policy = "ClusterFirst"') })
    expect(r.pod.spec!.dnsPolicy).toBeUndefined()
    expect(r.notes.join('\n')).toContain('falling back to cluster\'s default policy: unsupported kubernetes-dns-policy: "ClusterFirst"')
  })

  it('services: container names from valid aliases or svc-N, host aliases sorted by container name, config services first', () => {
    const r = renderJob({ runner: runner('[[runners.kubernetes.services]]\nname = "docker:dind"'), job: job({ services: [{ name: 'postgres:16', alias: 'db' }, { name: 'redis:7', alias: 'Not_Valid' }] }) })
    expect(r.pod.spec!.containers.map((c) => c.name)).toEqual(['build', 'helper', 'db', 'svc-0', 'svc-1'])
    expect(container(r.pod, 'svc-0').image).toBe('docker:dind')
    expect(r.pod.spec!.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['postgres', 'db', 'docker', 'redis'] }])
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^provided host alias Not_Valid for service redis:7 is invalid DNS/)])
  })

  it('ports: containerPorts, one ClusterIP proxy Service per alias (or build / proxy-<container>), created after the pod; no host alias for those services', () => {
    const ci = parseCiSource('web:\n  image:\n    name: node:22\n    ports: [8080]\n  services:\n    - name: nginx:1\n      alias: front\n      ports:\n        - number: 80\n          protocol: http\n    - name: selenium/standalone-chrome:4\n      ports: [4444]\n    - name: redis:7\n  script: [true]\n', '/x/.gitlab-ci.yml')
    const r = renderJob({ runner: runner(''), job: ci.jobs.web! })
    expect(container(r.pod, 'build').ports).toEqual([{ containerPort: 8080 }])
    expect(container(r.pod, 'front').ports).toEqual([{ containerPort: 80 }])
    expect(container(r.pod, 'svc-0').ports).toEqual([{ containerPort: 4444 }])
    expect(container(r.pod, 'svc-1').ports).toBeUndefined()
    expect(r.services.map((x) => [x.metadata!.name!.replace(/-[a-z0-9]{8}$/, ''), x.spec!.ports])).toEqual([
      ['build', [{ name: 'build-8080', port: 8080, targetPort: 8080 }]],
      ['front', [{ name: 'front-80', port: 80, targetPort: 80 }]],
      ['proxy-svc-0', [{ name: 'proxy-svc-0-4444', port: 4444, targetPort: 4444 }]],
    ])
    expect(r.services[0]!.spec).toMatchObject({ type: 'ClusterIP', selector: { 'job.runner.gitlab.com/pod': 'runner-abcdefghi-project-1-concurrent-0' } })
    expect(r.order.map((o) => [o.kind, o.owner])).toEqual([['Pod', 'none'], ['Service', 'with-create'], ['Service', 'with-create'], ['Service', 'with-create']])
    expect(r.objects.map((o) => o.kind)).toEqual(['Pod', 'Service', 'Service', 'Service'])
    // Only the service without ports gets host names.
    expect(r.pod.spec!.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['redis'] }])
    const errors: string[] = []
    for (const svc of r.services) validate(svc, 'V1Service', 'service', errors)
    expect(errors).toEqual([])
  })

  it('resources per container and KUBERNETES_* overwrites within *_overwrite_max_allowed', () => {
    const cfg = 'cpu_limit = "1"\nhelper_memory_request = "64Mi"\nservice_cpu_request = "100m"\ncpu_limit_overwrite_max_allowed = "2"'
    const ok = renderJob({ runner: runner(cfg), job: job({ variables: { KUBERNETES_CPU_LIMIT: '1500m' }, services: [{ name: 'redis:7' }] }) })
    expect(container(ok.pod, 'build').resources).toEqual({ limits: { cpu: '1500m' } })
    expect(container(ok.pod, 'helper').resources).toEqual({ requests: { memory: '64Mi' } })
    expect(container(ok.pod, 'init-permissions').resources).toEqual({ requests: { memory: '64Mi' } })
    expect(container(ok.pod, 'svc-0').resources).toEqual({ requests: { cpu: '100m' } })
    const over = renderJob({ runner: runner(cfg), job: job({ variables: { KUBERNETES_CPU_LIMIT: '3' } }) })
    expect(over.problems[0]!.message).toBe('couldn\'t prepare overwrites: invalid build limits specified: the resource "cpu" requested "3" is higher than limit allowed "2"')
    const ignored = renderJob({ runner: runner('cpu_limit = "1"'), job: job({ variables: { KUBERNETES_CPU_LIMIT: '3' } }) })
    expect(container(ignored.pod, 'build').resources).toEqual({ limits: { cpu: '1' } })
  })

  it('the footprint counts every container and the largest init container', () => {
    const r = renderJob({ runner: runner('cpu_request = "1"\nhelper_cpu_request = "200m"\nmemory_request = "1Gi"') })
    expect(r.footprint.requests.cpu).toBeCloseTo(1.2)
    expect(r.footprint.requests.memory).toBe(2 ** 30)
  })

  it('namespace: config, per-job namespace, and job overwrites only within namespace_overwrite_allowed', () => {
    expect(renderJob({ runner: runner('namespace_per_job = true'), jobId: 42 }).createsNamespace).toBe('ci-job-42')
    expect(renderJob({ runner: runner('namespace_overwrite_allowed = "^ci-.*"'), job: job({ variables: { KUBERNETES_NAMESPACE_OVERWRITE: 'ci-feature' } }) }).namespace).toBe('ci-feature')
    const refused = renderJob({ runner: runner('namespace_overwrite_allowed = "^ci-.*"'), job: job({ variables: { KUBERNETES_NAMESPACE_OVERWRITE: 'prod' } }) })
    expect(refused.namespace).toBe('ci')
    expect(refused.problems[0]).toMatchObject({ message: 'couldn\'t prepare overwrites: provided value "prod" does not match "^ci-.*"', catalog: 'namespace-overwrite-not-allowed' })
    expect(renderJob({ runner: runner(''), job: job({ variables: { KUBERNETES_NAMESPACE_OVERWRITE: 'other' } }) }).namespace).toBe('ci')
  })

  it('registry credentials: a dockercfg secret created first, in the pod\'s pull secrets, owned after the pod exists', () => {
    const r = renderJob({ runner: runner('image_pull_secrets = ["corp"]'), job: job({ variables: { DOCKER_AUTH_CONFIG: '{"auths":{"r.example.com":{"auth":"dTpw"}}}' } }) })
    expect(r.secrets[0]!.type).toBe('kubernetes.io/dockercfg')
    expect(r.order.map((o) => [o.kind, o.owner])).toEqual([['Secret', 'after-pod-create'], ['Pod', 'none']])
    expect(r.pod.spec!.imagePullSecrets).toEqual([{ name: 'corp' }, { name: r.secrets[0]!.metadata!.name }])
    expect(objectsYaml(r.objects)).not.toContain('dTpw')
    const sa = renderJob({ runner: runner('use_service_account_image_pull_secrets = true\nimage_pull_secrets = ["corp"]') })
    expect(sa.pod.spec!.imagePullSecrets).toBeUndefined()
  })

  it('allowed_images and allowed_services refuse other images', () => {
    const r = renderJob({ runner: runner('allowed_images = ["registry.example.com/**"]\nallowed_services = ["postgres:*"]'), job: job({ image: { name: 'node:22' }, services: [{ name: 'redis:7' }] }) })
    expect(r.problems.map((p) => p.catalog)).toEqual(['image-not-allowed', 'service-not-allowed'])
    expect(r.problems[0]!.message).toMatch(/^disallowed image: The "node:22" image is not present on list of allowed images/)
  })

  it('env: every $ is doubled (runner 19.0+)', () => {
    expect(container(renderJob({ runner: runner('', 'environment = ["B=1"]'), job: job({ variables: { A: 'x$y' } }) }).pod, 'build').env).toEqual(expect.arrayContaining([{ name: 'A', value: 'x$$y' }, { name: 'B', value: '1' }, { name: 'CI_CONCURRENT_ID', value: '0' }]))
  })

  it('pod_spec patches apply only with FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: merge, json and strategic', () => {
    const patches = `[[runners.kubernetes.pod_spec]]\nname = "m"\npatch_type = "merge"\npatch = 'hostname: "x"'\n[[runners.kubernetes.pod_spec]]\nname = "j"\npatch_type = "json"\npatch = '[{"op": "add", "path": "/subdomain", "value": "y"}]'\n[[runners.kubernetes.pod_spec]]\nname = "s"\npatch = 'containers: [{name: build, workingDir: /w}]'`
    const off = renderJob({ runner: runner(patches) })
    expect(off.pod.spec!.hostname).toBeUndefined()
    const on = renderJob({ runner: runner(patches, '', 'FF_USE_ADVANCED_POD_SPEC_CONFIGURATION = true') })
    expect(on.pod.spec).toMatchObject({ hostname: 'x', subdomain: 'y' })
    expect(container(on.pod, 'build')).toMatchObject({ workingDir: '/w', image: 'alpine:3.20' })
  })

  it('volumes of every type, with their mounts in the runner\'s order', () => {
    const cfg = ['host_path', 'secret', 'pvc', 'config_map', 'empty_dir', 'csi', 'nfs'].map((t, i) => `[[runners.kubernetes.volumes.${t}]]\nname = "v${i}"\nmount_path = "/m${i}"${t === 'csi' ? '\ndriver = "d"' : t === 'nfs' ? '\nserver = "s"\npath = "/p"' : ''}`).join('\n')
    const pod = renderJob({ runner: runner(cfg) }).pod
    expect(container(pod, 'build').volumeMounts!.map((m) => m.name)).toEqual(['scripts', 'logs', 'v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'repo'])
    expect(pod.spec!.volumes!.map((v) => Object.keys(v).filter((k) => k !== 'name')[0])).toEqual(['hostPath', 'secret', 'persistentVolumeClaim', 'configMap', 'emptyDir', 'csi', 'nfs', 'emptyDir', 'emptyDir', 'emptyDir'])
  })

  it('every rendered pod validates against the client library\'s model schema', () => {
    for (const dir of readdirSync(path.join(ROOT, 'test', 'executor', 'cases'))) {
      const r = renderCase(dir)
      const errors: string[] = []
      validate(r.pod, 'V1Pod', dir, errors)
      for (const s of r.secrets) validate(s, 'V1Secret', `${dir}/secret`, errors)
      expect(errors).toEqual([])
    }
  })
})

function renderCase(dir: string): ReturnType<typeof renderJob> {
  const base = path.join(ROOT, 'test', 'executor', 'cases', dir)
  const config = parseConfigText(readFileSync(path.join(base, 'config.toml'), 'utf8'), path.join(base, 'config.toml'))
  const jobFile = path.join(base, 'job.yml')
  const ci = existsSync(jobFile) ? parseCiSource(readFileSync(jobFile, 'utf8'), jobFile) : undefined
  const j = ci ? Object.values(ci.jobs)[0] : undefined
  return renderJob({ runner: config.runners[0]!, ...(j ? { job: j } : {}) })
}

describe('golden renders (test/executor/cases/<case>/expected.yaml; UPDATE_GOLDEN=1 rewrites them)', () => {
  for (const dir of readdirSync(path.join(ROOT, 'test', 'executor', 'cases'))) {
    it(dir, () => {
      const r = renderCase(dir)
      const text = objectsYaml(r.objects, r.notes)
      const file = path.join(ROOT, 'test', 'executor', 'cases', dir, 'expected.yaml')
      if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text)
      expect(text).toBe(readFileSync(file, 'utf8'))
    })
  }
})

describe('gkr render', () => {
  it('prints the objects as YAML, secrets redacted, with the runner version', async () => {
    const r = await runCommand(Render, ['-c', path.join(ROOT, 'test', 'executor', 'cases', 'dind-services', 'config.toml'), '--ci-file', path.join(ROOT, 'test', 'executor', 'cases', 'dind-services', 'job.yml'), '--job', 'build-image'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^# objects gkr renders as GitLab Runner 19\.4\.0 \(19\.x\)/)
    expect(r.stdout).toContain('kind: Pod')
    expect(r.stdout).toMatch(/- name: cache\n\s+image: redis:7/)
  })

  it('exits 1 and names the runner\'s error when the runner would refuse the job', async () => {
    const r = await runCommand(Render, ['-c', path.join(ROOT, 'test', 'executor', 'cases', 'dind-services', 'config.toml'), '--var', 'KUBERNETES_CPU_LIMIT=8'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error: couldn\'t prepare overwrites: invalid build limits specified: the resource "cpu" requested "8" is higher than limit allowed "4"')
  })

  it('needs --job with --ci-file, and names the jobs', async () => {
    const r = await runCommand(Render, ['-c', path.join(ROOT, 'examples', 'config.toml'), '--ci-file', path.join(ROOT, 'test', 'executor', 'cases', 'dind-services', 'job.yml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--job: --job is required with --ci-file (jobs in')
  })
})
