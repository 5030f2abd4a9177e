import { CoreV1Api, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { renderJob } from '../../src/executor/render.js'
import { loadConfig } from '../../src/config/load.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * Init containers as the kubelet runs them: one after another, each to completion, before any app
 * container starts; a failing one fails the pod (restartPolicy Never) or is run again after the
 * back-off (Init:CrashLoopBackOff). The runner's own init-permissions container is one of them.
 */

const NS = 'gitlab-runner'
const small = { requests: { cpu: '10m', memory: '16Mi' } }

describe('init containers', () => {
  let sim: Sim
  let core: CoreV1Api
  beforeAll(async () => {
    sim = await start(withKnobs({ clockFactor: 0.001 }))
    const kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfig)
    core = kc.makeApiClient(CoreV1Api)
  })
  afterAll(async () => {
    await sim?.stop()
    expect(sim.bugs()).toEqual([])
  })
  const read = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: NS })
  const eventsOf = async (name: string): Promise<CoreV1Event[]> => (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items

  it('run in order, to completion, before the app containers; their work is there when the app starts', async () => {
    await core.createNamespacedPod({ namespace: NS, body: {
      metadata: { name: 'ordered', namespace: NS },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          { name: 'first', image: 'alpine:3.20', command: ['sh', '-c', 'echo one > /work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }], resources: small },
          { name: 'second', image: 'alpine:3.20', command: ['sh', '-c', 'cat /work/steps && echo two >> /work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }], resources: small },
        ],
        containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'cat /work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }], resources: small }],
      },
    } })
    await expect.poll(async () => (await read('ordered')).status?.phase, { timeout: 5000 }).toBe('Succeeded')
    const pod = await read('ordered')
    expect(pod.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason, s.state?.terminated?.exitCode])).toEqual([['first', 'Completed', 0], ['second', 'Completed', 0]])
    expect(await core.readNamespacedPodLog({ name: 'ordered', namespace: NS, container: 'second' })).toBe('one\n')
    expect(await core.readNamespacedPodLog({ name: 'ordered', namespace: NS, container: 'main' })).toBe('one\ntwo\n')
    const started = (await eventsOf('ordered')).filter((e) => e.reason === 'Started').map((e) => e.involvedObject.fieldPath)
    expect(started).toEqual(['spec.initContainers{first}', 'spec.initContainers{second}', 'spec.containers{main}'])
  })

  it('a failing one fails the pod under restartPolicy Never: the app containers never start (kubectl: Init:Error)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: {
      metadata: { name: 'init-fails', namespace: NS },
      spec: { restartPolicy: 'Never', initContainers: [{ name: 'prep', image: 'alpine:3.20', command: ['sh', '-c', 'echo no permission >&2; exit 3'], resources: small }], containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'echo ran'], resources: small }] },
    } })
    await expect.poll(async () => (await read('init-fails')).status?.phase, { timeout: 5000 }).toBe('Failed')
    const pod = await read('init-fails')
    expect(pod.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' })
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing')
    expect(pod.status?.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [prep]' })
    expect((await eventsOf('init-fails')).some((e) => e.reason === 'Started' && e.involvedObject.fieldPath === 'spec.containers{main}')).toBe(false)
    expect(await core.readNamespacedPodLog({ name: 'init-fails', namespace: NS, container: 'prep' })).toBe('no permission\n')
    if (hasKubectl) expect((await kubectl(sim.kubeconfig, ['get', 'pod', 'init-fails', '-n', NS, '--no-headers'])).stdout).toMatch(/^init-fails\s+0\/1\s+Init:Error\s/)
  })

  it('a failing one is run again after the back-off under restartPolicy Always (Init:CrashLoopBackOff)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: {
      metadata: { name: 'init-loops', namespace: NS },
      spec: { restartPolicy: 'Always', initContainers: [{ name: 'prep', image: 'alpine:3.20', command: ['sh', '-c', 'exit 1'], resources: small }], containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'sleep 5'], resources: small }] },
    } })
    await expect.poll(async () => (await read('init-loops')).status?.initContainerStatuses?.[0]?.restartCount ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    const pod = await read('init-loops')
    expect(pod.status?.phase).toBe('Pending')
    expect(pod.status?.initContainerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' })
    if (hasKubectl) expect((await kubectl(sim.kubeconfig, ['get', 'pod', 'init-loops', '-n', NS, '--no-headers'])).stdout).toMatch(/^init-loops\s+0\/1\s+Init:(CrashLoopBackOff|Error|0\/1)\s/)
    await core.deleteNamespacedPod({ name: 'init-loops', namespace: NS, gracePeriodSeconds: 0 })
  })

  it("the runner's init-permissions container (touch and chmod of the build log in the logs volume) completes before the job pod runs", async () => {
    const config = await loadConfig({ path: sim.runnerConfig })
    const rendered = renderJob({ runner: config.runners[0]! })
    const pod = structuredClone(rendered.pod) as unknown as V1Pod
    expect(pod.spec?.initContainers?.map((c) => c.name)).toContain('init-permissions')
    // Only the init container matters here: the app containers wait on stdin and are deleted below.
    pod.metadata = { ...pod.metadata, name: 'runner-init', namespace: NS }
    delete (pod.metadata as { generateName?: string }).generateName
    await core.createNamespacedPod({ namespace: NS, body: pod })
    await expect.poll(async () => (await read('runner-init')).status?.initContainerStatuses?.find((s) => s.name === 'init-permissions')?.state?.terminated?.reason, { timeout: 5000 }).toBe('Completed')
    await expect.poll(async () => (await read('runner-init')).status?.phase, { timeout: 5000 }).toBe('Running')
    await core.deleteNamespacedPod({ name: 'runner-init', namespace: NS, gracePeriodSeconds: 0 })
  })
})
