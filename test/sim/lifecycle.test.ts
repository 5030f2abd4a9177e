import { CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1Pod } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { backOffSeconds, goDuration, markForDeletion } from '../../src/sim/lifecycle.js'
import { findResource } from '../../src/sim/resources.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * Object and container lifecycle as a real cluster runs it: graceful pod deletion (deletionTimestamp,
 * deletionGracePeriodSeconds, Terminating until the containers stop), finalizers that keep any object
 * until an update removes them, restartPolicy with restartCount, back-off and CrashLoopBackOff, Ready
 * false once a container exited, and one pod IP per pod. The scenario clock runs 1000 times faster,
 * so a 30 s grace period is 30 ms and the kubelet's 10 s back-off 10 ms.
 */

const NS = 'gitlab-runner'
const small = { requests: { cpu: '10m', memory: '16Mi' } }
type Containers = NonNullable<V1Pod['spec']>['containers']
const pod = (name: string, containers: Containers, spec: Partial<NonNullable<V1Pod['spec']>> = {}, finalizers?: string[]): V1Pod =>
  ({ metadata: { name, namespace: NS, ...(finalizers ? { finalizers } : {}) }, spec: { restartPolicy: 'Never', containers, ...spec } })

describe('lifecycle: graceful deletion, finalizers, restarts, readiness, pod IPs', () => {
  let sim: Sim
  let kc: KubeConfig
  let core: CoreV1Api
  beforeAll(async () => {
    sim = await start(withKnobs({ clockFactor: 0.001 }))
    kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfig)
    core = kc.makeApiClient(CoreV1Api)
  })
  afterAll(async () => {
    await sim?.stop()
    expect(sim.bugs()).toEqual([])
  })
  const read = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: NS })
  const running = async (name: string): Promise<void> => {
    await expect.poll(async () => (await read(name)).status?.phase).toBe('Running')
  }
  const gone = async (name: string): Promise<void> => {
    await expect.poll(async () => core.readNamespacedPod({ name, namespace: NS }).then(() => 'present', (e: { code?: number }) => e.code), { timeout: 5000 }).toBe(404)
  }
  const watchPods = async (name: string): Promise<{ events: Array<{ type: string; deleting: boolean }>; stop: () => void }> => {
    const events: Array<{ type: string; deleting: boolean }> = []
    const req = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, { fieldSelector: `metadata.name=${name}`, resourceVersion: sim.store.resourceVersion.toString() }, (type, o: V1Pod) => events.push({ type, deleting: Boolean(o.metadata?.deletionTimestamp) }), () => undefined)
    return { events, stop: () => req.abort() }
  }

  it('a pod is deleted gracefully: 200 with deletionTimestamp and the pod\'s terminationGracePeriodSeconds, Terminating while a container ignores SIGTERM, then DELETED', async () => {
    // The container ignores SIGTERM: only the SIGKILL at the end of the grace period stops it.
    await core.createNamespacedPod({ namespace: NS, body: pod('stubborn', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.01; done'], resources: small }], { terminationGracePeriodSeconds: 1500 }) })
    await running('stubborn')
    const w = await watchPods('stubborn')
    const before = Date.now()
    const deleted = await core.deleteNamespacedPod({ name: 'stubborn', namespace: NS })
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(1500)
    // deletionTimestamp is when the grace period ends: now + 1500 s (the API server's second precision).
    const at = new Date(String(deleted.metadata?.deletionTimestamp)).getTime()
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 1_499_000)
    expect(at).toBeLessThanOrEqual(Date.now() + 1_501_000)
    expect((await read('stubborn')).metadata?.deletionTimestamp).toBeDefined()
    if (hasKubectl) expect((await kubectl(sim.kubeconfig, ['get', 'pod', 'stubborn', '-n', NS, '--no-headers'])).stdout).toMatch(/^stubborn\s+\S+\s+Terminating\s/)
    const events = await sim.store.list(findResource('', 'v1', 'events')!, NS).filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'stubborn')
    expect(events.map((e) => `${String(e.reason)} ${String(e.message)}`)).toContain('Killing Stopping container main')
    await gone('stubborn')
    // 1500 s at 1/1000: not before 1.5 s (the SIGKILL), then the kubelet confirms.
    expect(Date.now() - before).toBeGreaterThanOrEqual(1400)
    await expect.poll(() => w.events.at(-1)?.type).toBe('DELETED')
    w.stop()
    expect(w.events[0]).toEqual({ type: 'MODIFIED', deleting: true })
    expect(w.events.filter((e) => e.type === 'DELETED')).toHaveLength(1)
  })

  it('a container that stops on SIGTERM ends the deletion early; gracePeriodSeconds=0 deletes at once', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('polite', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'while true; do sleep 0.01; done'], resources: small }], { terminationGracePeriodSeconds: 3600 }) })
    await running('polite')
    const t0 = Date.now()
    await core.deleteNamespacedPod({ name: 'polite', namespace: NS })
    await gone('polite')
    expect(Date.now() - t0).toBeLessThan(3000)
    await core.createNamespacedPod({ namespace: NS, body: pod('forced', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.01; done'], resources: small }]) })
    await running('forced')
    const w = await watchPods('forced')
    const deleted = await core.deleteNamespacedPod({ name: 'forced', namespace: NS, gracePeriodSeconds: 0 })
    expect(deleted.metadata?.deletionTimestamp).toBeUndefined()
    await expect(read('forced')).rejects.toMatchObject({ code: 404 })
    await expect.poll(() => w.events.map((e) => e.type)).toEqual(['DELETED'])
    w.stop()
  })

  it('a finalizer keeps a pod Terminating after its containers stopped, and a configmap after its delete, until an update removes it', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('kept', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'sleep 30'], resources: small }], {}, ['example.com/keep']) })
    await running('kept')
    await core.deleteNamespacedPod({ name: 'kept', namespace: NS })
    await expect.poll(async () => (await read('kept')).metadata?.deletionGracePeriodSeconds).toBe(0)
    const kept = await read('kept')
    expect(kept.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 143, reason: 'Error' })
    expect(kept.metadata?.finalizers).toEqual(['example.com/keep'])
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
    await core.patchNamespacedPod({ name: 'kept', namespace: NS, body: { metadata: { finalizers: null } } }, merge)
    await expect(read('kept')).rejects.toMatchObject({ code: 404 })

    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'held', finalizers: ['example.com/a', 'example.com/b'] } } })
    const events: string[] = []
    const req = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { fieldSelector: 'metadata.name=held', resourceVersion: sim.store.resourceVersion.toString() }, (type, o: { metadata?: { deletionTimestamp?: string; finalizers?: string[] } }) => events.push(`${type} ${o.metadata?.deletionTimestamp ? 'deleting' : 'live'} ${(o.metadata?.finalizers ?? []).join(',')}`), () => undefined)
    // A pending deletion answers with the object, not with a Success Status.
    expect((await core.deleteNamespacedConfigMap({ name: 'held', namespace: NS })).kind).toBe('ConfigMap')
    expect((await core.readNamespacedConfigMap({ name: 'held', namespace: NS })).metadata).toMatchObject({ deletionGracePeriodSeconds: 0, deletionTimestamp: expect.any(Date) })
    // An update cannot take deletionTimestamp away; removing one finalizer is not enough.
    await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { deletionTimestamp: null, finalizers: ['example.com/b'] } } }, merge)
    expect((await core.readNamespacedConfigMap({ name: 'held', namespace: NS })).metadata?.deletionTimestamp).toBeDefined()
    await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { finalizers: [] } } }, merge)
    await expect(core.readNamespacedConfigMap({ name: 'held', namespace: NS })).rejects.toMatchObject({ code: 404 })
    await expect.poll(() => events).toEqual(['MODIFIED deleting example.com/a,example.com/b', 'MODIFIED deleting example.com/b', 'DELETED deleting '])
    req.abort()
  })

  it('restartPolicy Always: the container restarts with a growing restartCount, CrashLoopBackOff in the kubelet\'s words, lastState, BackOff events; Ready is False', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('crasher', [{ name: 'svc', image: 'postgres:16', command: ['sh', '-c', 'echo starting; exit 3'], resources: small }, { name: 'build', image: 'alpine:3.20', command: ['sh', '-c', 'sleep 30'], resources: small }], { restartPolicy: 'Always' }) })
    await expect.poll(async () => (await read('crasher')).status?.containerStatuses?.[0]?.restartCount ?? 0).toBeGreaterThanOrEqual(3)
    let p = await read('crasher')
    // Catch it in back-off (the waits double: 10 s, 20 s, 40 s… at 1/1000).
    await expect.poll(async () => (p = await read('crasher')).status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff')
    const svc = p.status!.containerStatuses![0]!
    const n = svc.restartCount
    expect(svc.state?.waiting?.message).toBe(`back-off ${goDuration(backOffSeconds(n))} restarting failed container=svc pod=crasher_${NS}(${p.metadata?.uid})`)
    expect(svc.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' })
    expect(svc.ready).toBe(false)
    expect(p.status?.phase).toBe('Running')
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [svc]' })
    expect(p.status?.containerStatuses?.[1]).toMatchObject({ name: 'build', ready: true, restartCount: 0 })
    const events = sim.store.list(findResource('', 'v1', 'events')!, NS).filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'crasher')
    expect(events.map((e) => String(e.message))).toContain(`Back-off restarting failed container svc in pod crasher_${NS}(${p.metadata?.uid})`)
    // In back-off, the log is the last run's; `previous` asks for it explicitly; build never ran before.
    expect(await core.readNamespacedPodLog({ name: 'crasher', namespace: NS, container: 'svc' })).toBe('starting\n')
    expect(await core.readNamespacedPodLog({ name: 'crasher', namespace: NS, container: 'svc', previous: true })).toBe('starting\n')
    await expect(core.readNamespacedPodLog({ name: 'crasher', namespace: NS, container: 'build', previous: true })).rejects.toMatchObject({ code: 400, body: expect.stringContaining('previous terminated container \\"build\\" in pod \\"crasher\\" not found') })
    // The container runs again between back-offs, and kubectl takes longer to start than a short back-off lasts: catch it waiting.
    if (hasKubectl) await expect.poll(async () => (await kubectl(sim.kubeconfig, ['get', 'pod', 'crasher', '-n', NS, '--no-headers'])).stdout, { timeout: 10_000 }).toMatch(/^crasher\s+1\/2\s+CrashLoopBackOff\s+\d+/)
    await core.deleteNamespacedPod({ name: 'crasher', namespace: NS, gracePeriodSeconds: 0 })
  })

  it('the back-off starts again at 10 s after a run of more than 10 minutes (scenario clock); a shorter run keeps doubling it', async () => {
    // Runs 1, 3 and 5 fail at once; run 2 lasts 300 s of scenario time (0.3 s), run 4 1000 s (1 s); run 6 stays up.
    const script = 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; case $n in 2) sleep 0.3 ;; 4) sleep 1 ;; 6) exec sleep 60 ;; esac; exit 1'
    const seen: string[] = []
    const req = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, { fieldSelector: 'metadata.name=resetter' }, (_type, o: V1Pod) => {
      const m = o.status?.containerStatuses?.[0]?.state?.waiting?.message
      const d = m ? /^back-off (\S+) restarting failed container=main /.exec(m)?.[1] : undefined
      if (d && seen[seen.length - 1] !== `${o.status?.containerStatuses?.[0]?.restartCount} ${d}`) seen.push(`${o.status?.containerStatuses?.[0]?.restartCount} ${d}`)
    }, () => undefined)
    await core.createNamespacedPod({ namespace: NS, body: pod('resetter', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', script], resources: small }], { restartPolicy: 'Always' }) })
    await expect.poll(async () => (await read('resetter')).status?.containerStatuses?.[0]?.restartCount ?? 0, { timeout: 8000 }).toBe(5)
    await expect.poll(async () => (await read('resetter')).status?.containerStatuses?.[0]?.state?.running).toBeDefined()
    req.abort()
    // Without the reset the fourth back-off would be 1m20s.
    expect(seen).toEqual(['1 10s', '2 20s', '3 40s', '4 10s', '5 20s'])
    await core.deleteNamespacedPod({ name: 'resetter', namespace: NS, gracePeriodSeconds: 0 })
  })

  it('OnFailure restarts only a failing container; Never leaves it terminated; Ready is False once a container exited', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('onfail', [{ name: 'ok', image: 'alpine:3.20', command: ['sh', '-c', 'exit 0'], resources: small }, { name: 'bad', image: 'alpine:3.20', command: ['sh', '-c', 'exit 1'], resources: small }], { restartPolicy: 'OnFailure' }) })
    await expect.poll(async () => (await read('onfail')).status?.containerStatuses?.find((c) => c.name === 'bad')?.restartCount ?? 0).toBeGreaterThanOrEqual(2)
    const p = await read('onfail')
    expect(p.status?.containerStatuses?.find((c) => c.name === 'ok')).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } })
    expect(p.status?.phase).toBe('Running')
    await core.deleteNamespacedPod({ name: 'onfail', namespace: NS, gracePeriodSeconds: 0 })

    await core.createNamespacedPod({ namespace: NS, body: pod('never', [{ name: 'quick', image: 'alpine:3.20', command: ['sh', '-c', 'exit 2'], resources: small }, { name: 'build', image: 'alpine:3.20', command: ['sh', '-c', 'sleep 30'], resources: small }]) })
    await expect.poll(async () => (await read('never')).status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(2)
    const q = await read('never')
    expect(q.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: false })
    expect(q.status?.conditions?.filter((c) => c.type === 'Ready' || c.type === 'ContainersReady').map((c) => [c.type, c.status])).toEqual([['Ready', 'False'], ['ContainersReady', 'False']])
    await core.deleteNamespacedPod({ name: 'never', namespace: NS, gracePeriodSeconds: 0 })
  })

  it('a new pod is stored Pending with its QoS class, so a read or watch before the scheduler acts sees a status', async () => {
    // The CI failure this pins: the Python client polled status.phase right after create and got
    // status None. The ADDED event carries the object as stored at create, before any scheduling.
    // A namespace without the scenario's quota, so a pod without requests is admitted.
    await core.createNamespace({ body: { metadata: { name: 'qos' } } })
    const seen = new Map<string, V1Pod['status']>()
    const req = await new Watch(kc).watch('/api/v1/namespaces/qos/pods', { labelSelector: 'qos-test=1', resourceVersion: sim.store.resourceVersion.toString() }, (type, o: V1Pod) => {
      if (type === 'ADDED') seen.set(o.metadata!.name!, o.status)
    }, () => undefined)
    const mk = (name: string, resources: Record<string, Record<string, string>>): V1Pod => ({ ...pod(name, [{ name: 'main', image: 'alpine:3.20', command: ['true'], resources }]), metadata: { name, namespace: 'qos', labels: { 'qos-test': '1' } } })
    await core.createNamespacedPod({ namespace: 'qos', body: { ...mk('qos-best', {}), status: { phase: 'Running' } } })
    await core.createNamespacedPod({ namespace: 'qos', body: mk('qos-burst', small) })
    await core.createNamespacedPod({ namespace: 'qos', body: mk('qos-guar', { limits: { cpu: '100m', memory: '64Mi' } }) })
    await expect.poll(() => seen.size).toBe(3)
    req.abort()
    expect(Object.fromEntries(seen)).toEqual({ 'qos-best': { phase: 'Pending', qosClass: 'BestEffort' }, 'qos-burst': { phase: 'Pending', qosClass: 'Burstable' }, 'qos-guar': { phase: 'Pending', qosClass: 'Guaranteed' } })
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'qos-guar', namespace: 'qos' })).status?.qosClass).toBe('Guaranteed')
    for (const n of ['qos-best', 'qos-burst', 'qos-guar']) await core.deleteNamespacedPod({ name: n, namespace: 'qos', gracePeriodSeconds: 0 })
  })
  it('every pod gets a pod IP of its own from the pod CIDR', async () => {
    for (const n of ['ip-a', 'ip-b', 'ip-c']) await core.createNamespacedPod({ namespace: NS, body: pod(n, [{ name: 'main', image: 'alpine:3.20', resources: small }]) })
    const ips: string[] = []
    for (const n of ['ip-a', 'ip-b', 'ip-c']) {
      await running(n)
      ips.push(String((await read(n)).status?.podIP))
    }
    expect(new Set(ips).size).toBe(3)
    for (const ip of ips) expect(ip).toMatch(/^10\.244\.\d{1,3}\.\d{1,3}$/)
  })
})

describe('lifecycle rules', () => {
  const pods = findResource('', 'v1', 'pods')!
  const cms = findResource('', 'v1', 'configmaps')!
  const now = new Date('2026-12-01T10:00:00Z')
  it('grace periods: unscheduled and finished pods and other kinds go at once; a later delete may only shorten it', () => {
    expect(markForDeletion(pods, { metadata: { name: 'p' }, spec: {} }, undefined, now)).toBeUndefined()
    expect(markForDeletion(pods, { metadata: { name: 'p' }, spec: { nodeName: 'n' }, status: { phase: 'Succeeded' } }, undefined, now)).toBeUndefined()
    expect(markForDeletion(cms, { metadata: { name: 'c' } }, 30, now)).toBeUndefined()
    const marked = markForDeletion(pods, { metadata: { name: 'p' }, spec: { nodeName: 'n' } }, undefined, now)!
    expect(marked.obj.metadata).toMatchObject({ deletionTimestamp: '2026-12-01T10:00:30Z', deletionGracePeriodSeconds: 30 })
    expect(markForDeletion(pods, marked.obj, 60, now)).toEqual({ obj: marked.obj, changed: false })
    expect(markForDeletion(pods, marked.obj, 5, now)!.obj.metadata).toMatchObject({ deletionTimestamp: '2026-12-01T10:00:05Z', deletionGracePeriodSeconds: 5 })
    expect(markForDeletion(pods, marked.obj, 0, now)).toBeUndefined()
  })
  it('back-off doubles from 10 s up to 5 min, printed as Go prints durations', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => goDuration(backOffSeconds(n)))).toEqual(['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s'])
  })
})
