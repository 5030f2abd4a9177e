import { readFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { ApiException, Attach, AuthorizationV1Api, CoreV1Api, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { builtinScenarios, loadScenario, start, type Scenario, type Sim } from '../../src/sim/index.js'
import { parseConfigText, selectRunners } from '../../src/config/load.js'
import { renderJob, type RenderedJob } from '../../src/executor/render.js'
import { REPRESENTATIVE_JOB } from '../../src/doctor/cluster.js'

/**
 * Each built-in scenario's failure, seen through the public API as the runner's service account sees
 * it: the pod (and secret) the runner renders from the scenario's own config.toml is sent with the
 * official client, and the test asserts the exact Status the API server answers, or the event and
 * status the scheduler and kubelet write on the pod. (test/doctor/scenarios.test.ts checks what doctor
 * makes of them.)
 */

const NS = 'gitlab-runner'
let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

interface Cluster {
  sim: Sim
  core: CoreV1Api
  kc: KubeConfig
  job: RenderedJob
}

async function cluster(nameOrScenario: string | Scenario): Promise<Cluster> {
  sim = await start(nameOrScenario)
  const runner = selectRunners(parseConfigText(readFileSync(sim.runnerConfig, 'utf8'), sim.runnerConfig))[0]!
  const job = renderJob({ runner, variables: REPRESENTATIVE_JOB })
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfigFor('runner'))
  return { sim, core: kc.makeApiClient(CoreV1Api), kc, job }
}

/** The Status body of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; reason?: string; message: string }> {
  try {
    await call
  } catch (err) {
    if (!(err instanceof ApiException)) throw err
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { code: number; reason?: string; message: string }
    return { code: body.code, ...(body.reason ? { reason: body.reason } : {}), message: body.message }
  }
  throw new Error('the call was not refused')
}

const podName = (job: RenderedJob): string => job.pod.metadata!.name!

async function createPod(c: Cluster, pod: V1Pod = c.job.pod): Promise<V1Pod> {
  return c.core.createNamespacedPod({ namespace: NS, body: pod })
}

async function eventsOf(c: Cluster, name: string): Promise<string[]> {
  const list = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })
  return list.items.map((e: CoreV1Event) => `${e.type} ${e.reason} ${e.source?.component}: ${e.message}`)
}

it('covers every built-in scenario', () => {
  expect(builtinScenarios().map((s) => s.name).sort()).toEqual([
    'apiserver-flaky', 'apiserver-overloaded', 'crashloop-service', 'dns-broken', 'healthy', 'image-pull-failure', 'limitrange-conflict', 'no-matching-nodes', 'pod-security-restricted', 'pods-stuck-terminating', 'quota-cpu-memory',
    'quota-secrets-leaked', 'rbac-missing-attach', 'readonly-rootfs-policy', 'service-account-missing', 'slow-scheduling', 'small-mtu', 'webhook-deny', 'webhook-timeout', 'windows-nodes',
  ])
})

describe('failures at creation: the exact Status the API server answers the runner', () => {
  it('healthy: the runner\'s secret and pod are created, scheduled and started', async () => {
    const c = await cluster('healthy')
    for (const s of c.job.secrets) await c.core.createNamespacedSecret({ namespace: NS, body: s })
    await createPod(c)
    await expect.poll(async () => (await c.core.readNamespacedPod({ name: podName(c.job), namespace: NS })).status?.phase).toBe('Running')
    expect(await eventsOf(c, podName(c.job))).toEqual([
      `Normal Scheduled default-scheduler: Successfully assigned ${NS}/${podName(c.job)} to node-1`,
      // The runner's init-permissions container runs to completion first.
      expect.stringMatching(/^Normal Pulled kubelet: Container image "registry.gitlab.com\/gitlab-org\/gitlab-runner\/gitlab-runner-helper:ubuntu-x86_64-v\S+" already present on machine$/),
      'Normal Created kubelet: Created container: init-permissions',
      'Normal Started kubelet: Started container init-permissions',
      'Normal Pulled kubelet: Container image "alpine:3.20" already present on machine',
      'Normal Created kubelet: Created container: build',
      'Normal Started kubelet: Started container build',
      expect.stringMatching(/^Normal Pulled kubelet: Container image "registry.gitlab.com\/gitlab-org\/gitlab-runner\/gitlab-runner-helper:ubuntu-x86_64-v\S+" already present on machine$/),
      'Normal Created kubelet: Created container: helper',
      'Normal Started kubelet: Started container helper',
    ])
  })

  it('quota-secrets-leaked: the runner\'s credentials secret exceeds the secrets quota', async () => {
    const c = await cluster('quota-secrets-leaked')
    expect(c.job.secrets).toHaveLength(1)
    const secret = c.job.secrets[0]!
    expect(await refusal(c.core.createNamespacedSecret({ namespace: NS, body: secret }))).toEqual({
      code: 403, reason: 'Forbidden',
      message: `secrets "${secret.metadata!.name}" is forbidden: exceeded quota: all-resources, requested: secrets=1, used: secrets=10, limited: secrets=10`,
    })
  })

  it('quota-cpu-memory: the pod\'s CPU requests exceed what is left of the quota', async () => {
    const c = await cluster('quota-cpu-memory')
    expect(await refusal(createPod(c))).toEqual({
      code: 403, reason: 'Forbidden',
      message: `pods "${podName(c.job)}" is forbidden: exceeded quota: all-resources, requested: requests.cpu=600m, used: requests.cpu=1800m, limited: requests.cpu=2`,
    })
  })

  it('limitrange-conflict: the build container\'s CPU limit is over the LimitRange maximum', async () => {
    const c = await cluster('limitrange-conflict')
    expect(await refusal(createPod(c))).toEqual({ code: 403, reason: 'Forbidden', message: `pods "${podName(c.job)}" is forbidden: maximum cpu usage per Container is 500m, but limit is 1` })
  })

  it('webhook-deny: the validating webhook\'s denial, with its code and reason', async () => {
    const c = await cluster('webhook-deny')
    expect(await refusal(createPod(c))).toEqual({ code: 403, reason: 'Forbidden', message: 'admission webhook "require-team-label.example.com" denied the request: pods must carry the label "team"' })
  })

  it('webhook-timeout: the fail-closed webhook times out after its timeoutSeconds (scenario clock)', async () => {
    const c = await cluster('webhook-timeout')
    const url = 'https://slow-policy.policy-system.svc:443/validate?timeout=30s'
    expect(await refusal(createPod(c))).toEqual({ code: 500, reason: 'InternalError', message: `Internal error occurred: failed calling webhook "slow-policy.example.com": failed to call webhook: Post "${url}": context deadline exceeded` })
    expect(await c.core.listNamespacedPod({ namespace: NS })).toMatchObject({ items: [] })
  })

  it('readonly-rootfs-policy: Gatekeeper lists every container without a read-only root filesystem', async () => {
    const c = await cluster('readonly-rootfs-policy')
    const names = [...c.job.pod.spec!.containers, ...(c.job.pod.spec!.initContainers ?? [])].map((x) => x.name)
    expect(names).toEqual(['build', 'helper', 'init-permissions'])
    const lines = names.map((n) => `[psp-readonlyrootfilesystem] only read-only root filesystem container is allowed: ${n}`)
    expect(await refusal(createPod(c))).toEqual({ code: 403, reason: 'Forbidden', message: `admission webhook "validation.gatekeeper.sh" denied the request: ${lines.join('\n')}` })
  })

  it('windows-nodes: GKE\'s Windows webhook refuses the host aliases the runner adds for services', async () => {
    const c = await cluster('windows-nodes')
    const aliases = '[{"hostnames":["mssql-server","db"],"ip":"127.0.0.1"}]'
    expect(await refusal(createPod(c))).toEqual({ code: 400, message: `admission webhook "windows.common-webhooks.networking.gke.io" denied the request: spec.hostAliases: Invalid value: ${aliases}: Windows does not support this field.` })
  })

  it('pod-security-restricted: Pod Security Admission lists every control of restricted the runner\'s pod breaks, per container', async () => {
    const c = await cluster('pod-security-restricted')
    const names = [...(c.job.pod.spec!.initContainers ?? []), ...c.job.pod.spec!.containers].map((x) => `"${x.name}"`).join(', ')
    expect(names).toBe('"init-permissions", "build", "helper"')
    expect(await refusal(createPod(c))).toEqual({
      code: 403, reason: 'Forbidden',
      message: `pods "${podName(c.job)}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (containers ${names} must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers ${names} must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or containers ${names} must set securityContext.runAsNonRoot=true), seccompProfile (pod or containers ${names} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
    })
  })

  it('service-account-missing: the pod names a service account the namespace does not have', async () => {
    const c = await cluster('service-account-missing')
    expect(c.job.pod.spec!.serviceAccountName).toBe('ci-jobs')
    expect(await refusal(createPod(c))).toEqual({ code: 403, reason: 'Forbidden', message: `pods "${podName(c.job)}" is forbidden: error looking up service account ${NS}/ci-jobs: serviceaccount "ci-jobs" not found` })
  })

  it('apiserver-flaky: every third list fails with the etcd error, as a 500 without a reason', async () => {
    const c = await cluster('apiserver-flaky')
    const outcomes: string[] = []
    for (let i = 0; i < 6; i++) {
      try {
        await c.core.listNamespacedPod({ namespace: NS })
        outcomes.push('ok')
      } catch (err) {
        const e = await refusal(Promise.reject(err))
        outcomes.push(`${e.code} ${e.reason ?? '-'} ${e.message}`)
      }
    }
    expect(outcomes).toEqual(['ok', 'ok', '500 - etcdserver: leader changed', 'ok', 'ok', '500 - etcdserver: leader changed'])
  })

  it('apiserver-overloaded: the first request is dropped without an answer, then connections are refused', async () => {
    const c = await cluster('apiserver-overloaded')
    await expect(c.core.listNamespacedPod({ namespace: NS })).rejects.toMatchObject({ code: 'ECONNRESET' })
    await expect(c.core.createNamespacedPod({ namespace: NS, body: c.job.pod })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(c.sim.audit.map((e) => e.code)).toEqual([-1])
  })
})

describe('failures after creation: the scheduler\'s and kubelet\'s events and statuses on the pod', () => {
  it('rbac-missing-attach: the pod starts, but the runner may not attach to it nor watch pods', async () => {
    const c = await cluster('rbac-missing-attach')
    await createPod(c)
    const sa = 'system:serviceaccount:gitlab-runner:gitlab-runner'
    expect(await refusal(c.core.listNamespacedPod({ namespace: NS }))).toEqual({ code: 403, reason: 'Forbidden', message: `pods is forbidden: User "${sa}" cannot list resource "pods" in API group "" in the namespace "${NS}"` })
    const authz = c.kc.makeApiClient(AuthorizationV1Api)
    const can = async (verb: string, subresource?: string): Promise<boolean | undefined> =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb, resource: 'pods', ...(subresource ? { subresource } : {}) } } } })).status?.allowed
    expect([await can('create', 'attach'), await can('create', 'exec'), await can('watch'), await can('create')]).toEqual([false, true, false, true])
    await expect.poll(async () => (await c.core.readNamespacedPod({ name: podName(c.job), namespace: NS })).status?.phase).toBe('Running')
    const attach = new Attach(c.kc)
    await expect(attach.attach(NS, podName(c.job), 'build', new PassThrough(), new PassThrough(), new PassThrough(), false)).rejects.toMatchObject({ message: 'Unexpected server response: 403' })
    const refused = c.sim.audit.find((e) => e.subresource === 'attach')
    expect(refused).toMatchObject({ user: sa, code: 403, name: podName(c.job) })
  })

  it('no-matching-nodes: the pod stays Pending; the scheduler says why for every node', async () => {
    const c = await cluster('no-matching-nodes')
    await createPod(c)
    const message = '0/3 nodes are available: 3 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.'
    await expect.poll(() => eventsOf(c, podName(c.job))).toEqual([`Warning FailedScheduling default-scheduler: ${message}`])
    const pod = await c.core.readNamespacedPod({ name: podName(c.job), namespace: NS })
    expect(pod.status).toMatchObject({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] })
    expect(pod.spec!.nodeName).toBeUndefined()
  })

  it('windows-nodes: without the services, the pod finds no node (build label differs); on the right node the projected token cannot be mounted', async () => {
    const c = await cluster('windows-nodes')
    const bare = structuredClone(c.job.pod)
    delete bare.spec!.hostAliases
    bare.spec!.containers = bare.spec!.containers.filter((x) => x.name === 'build' || x.name === 'helper')
    expect(bare.spec!.nodeSelector).toEqual({ 'kubernetes.io/os': 'windows', 'node.kubernetes.io/windows-build': '10.0.20348' })
    await createPod(c, bare)
    await expect.poll(() => eventsOf(c, podName(c.job))).toEqual([
      'Warning FailedScheduling default-scheduler: 0/2 nodes are available: 1 node(s) didn\'t match Pod\'s node affinity/selector, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    ])
    const fitting = structuredClone(bare)
    fitting.metadata = { name: 'on-windows', namespace: NS }
    fitting.spec!.nodeSelector = { 'kubernetes.io/os': 'windows', 'node.kubernetes.io/windows-build': '10.0.17763' }
    fitting.spec!.tolerations = [{ key: 'os', operator: 'Equal', value: 'windows', effect: 'NoSchedule' }]
    const created = await createPod(c, fitting)
    const uid = created.metadata!.uid!
    await expect.poll(() => eventsOf(c, 'on-windows')).toEqual([
      'Normal Scheduled default-scheduler: Successfully assigned gitlab-runner/on-windows to win-1',
      `Warning FailedMount kubelet: MountVolume.SetUp failed for volume "kube-api-access-${uid.slice(0, 5)}" : chown c:\\var\\lib\\kubelet\\pods\\${uid}\\volumes\\kubernetes.io~projected\\kube-api-access-${uid.slice(0, 5)}\\..2026_11_24_00_00_00.000000000\\token: not supported by windows`,
    ])
    const pod = await c.core.readNamespacedPod({ name: 'on-windows', namespace: NS })
    expect(pod.status?.phase).toBe('Pending')
    expect(pod.status?.containerStatuses?.map((s) => s.state?.waiting?.reason)).toEqual(['ContainerCreating', 'ContainerCreating'])
  })

  it('image-pull-failure: ErrImagePull then ImagePullBackOff on the build container, with the kubelet\'s events', async () => {
    const c = await cluster('image-pull-failure')
    await createPod(c)
    const name = podName(c.job)
    const image = 'registry.example.com/ci/builder:9.99'
    const err = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`
    await expect.poll(async () => (await c.core.readNamespacedPod({ name, namespace: NS })).status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff')
    expect((await eventsOf(c, name)).slice(1)).toEqual([
      `Normal Pulling kubelet: Pulling image "${image}"`,
      `Warning Failed kubelet: Failed to pull image "${image}": ${err}`,
      'Warning Failed kubelet: Error: ErrImagePull',
      `Normal BackOff kubelet: Back-off pulling image "${image}"`,
      'Warning Failed kubelet: Error: ImagePullBackOff',
    ])
    expect(await refusal(c.core.readNamespacedPodLog({ name, namespace: NS, container: 'build' }))).toEqual({ code: 400, reason: 'BadRequest', message: `container "build" in pod "${name}" is waiting to start: trying and failing to pull image` })
  })

  it('slow-scheduling: the pod is bound only after longer than the runner\'s 180 s poll_timeout (scenario clock)', async () => {
    const scenario = loadScenario('slow-scheduling')
    scenario.knobs.clockFactor = 0.001 // 300 s of scenario time in 0.3 s
    const c = await cluster(scenario)
    expect(c.job.pod.spec).toBeDefined()
    expect(readFileSync(c.sim.runnerConfig, 'utf8')).toContain('poll_timeout = 180')
    const began = Date.now()
    await createPod(c)
    expect((await c.core.readNamespacedPod({ name: podName(c.job), namespace: NS })).spec!.nodeName).toBeUndefined()
    await expect.poll(async () => (await c.core.readNamespacedPod({ name: podName(c.job), namespace: NS })).spec!.nodeName, { timeout: 5000 }).toBe('node-1')
    const scenarioSeconds = (Date.now() - began) / 1000 / 0.001
    expect(scenarioSeconds).toBeGreaterThanOrEqual(300)
    expect((await eventsOf(c, podName(c.job)))[0]).toBe(`Normal Scheduled default-scheduler: Successfully assigned ${NS}/${podName(c.job)} to node-1`)
  })

  it.each([
    ['dns-broken', 'getent hosts kubernetes.default.svc; echo "exit $?"; nslookup gitlab.com', 'exit 2\nServer:         10.96.0.10\nAddress:        10.96.0.10#53\n\n** server can\'t find gitlab.com: NXDOMAIN\n'],
    ['small-mtu', 'cat /sys/class/net/eth0/mtu', '1200\n'],
  ])('%s: a command in a pod observes the scenario\'s pod network (its log)', async (name, script, log) => {
    const c = await cluster(name)
    const probe: V1Pod = { metadata: { name: 'probe', namespace: NS }, spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'alpine:3.20', command: ['sh', '-c', script], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } }
    await createPod(c, probe)
    await expect.poll(async () => (await c.core.readNamespacedPod({ name: 'probe', namespace: NS })).status?.phase).toBe(name === 'dns-broken' ? 'Failed' : 'Succeeded')
    expect(await c.core.readNamespacedPodLog({ name: 'probe', namespace: NS })).toBe(log)
  })
})
