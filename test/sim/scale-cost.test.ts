import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { resourceForKind } from '../../src/sim/resources.js'
import type { Obj, WatchEvent } from '../../src/sim/store.js'

/**
 * What a request costs the simulator does not grow with the namespace: creating, scheduling,
 * starting and deleting one pod visits as many stored objects with 10,000 other pods (and their
 * quota usage) as with none. Measured by the store's own count of objects visited, not by time.
 */

const NS = 'gitlab-runner'
const POD = resourceForKind('v1', 'Pod')!
const QUOTA = resourceForKind('v1', 'ResourceQuota')!
let sim: Sim
let core: CoreV1Api

beforeAll(async () => {
  const s = loadScenario('healthy')
  // The healthy scenario's quota, made room for 10,000 more pods.
  const quota = s.objects.find((o) => o.kind === 'ResourceQuota' && o.metadata.name === 'ci')!
  quota.spec = { hard: { pods: '20000', 'requests.cpu': '2000', 'requests.memory': '64Gi', secrets: '100' } }
  sim = await start(s)
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfig)
  core = kc.makeApiClient(CoreV1Api)
})
afterAll(async () => sim.stop())

/** Resolves when the store sees a change that `done` accepts. */
function seen(done: (e: WatchEvent) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: WatchEvent): void => {
      if (!done(e)) return
      sim.store.events.off('change', on)
      resolve()
    }
    sim.store.events.on('change', on)
  })
}

/** Objects visited by the store to create a pod over the API, have it scheduled and running, and delete it. */
async function oneJobPod(name: string): Promise<number> {
  const before = sim.store.work.visited
  const running = seen((e) => e.def === POD && e.object.metadata.name === name && (e.object.status as { phase?: string } | undefined)?.phase === 'Running')
  await core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { containers: [{ name: 'build', image: 'alpine:3.20', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } } })
  await running
  const gone = seen((e) => e.def === POD && e.type === 'DELETED' && e.object.metadata.name === name)
  await core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 })
  await gone
  return sim.store.work.visited - before
}

const used = (): Record<string, string> => ((sim.store.get(QUOTA, NS, 'ci').status as { used: Record<string, string> }).used)

describe('the cost of a request in a namespace of 10,000 pods', () => {
  it('is the same as in an empty one, for the API, the scheduler, the kubelet and quota usage', async () => {
    const empty = await oneJobPod('job-empty')
    const usedEmpty = used()
    // Bound to a node of their own (not in the store), so node-1 keeps room for the job pod.
    const node = 'node-apps'
    const app = (i: number): Obj => ({ metadata: { name: `app-${i}`, labels: { app: 'bench' } }, spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.example.com/app:1.0', resources: { requests: { cpu: '100m' } } }] }, status: { phase: 'Running' } })
    // Each create costs the same from the first to the 10,000th.
    const costs: number[] = []
    for (let i = 0; i < 10_000; i++) {
      const v = sim.store.work.visited
      sim.store.create(POD, NS, app(i))
      if (i < 100 || i >= 9_900) costs.push(sim.store.work.visited - v)
    }
    expect(costs.slice(100)).toEqual(costs.slice(0, 100))
    // Quota usage was counted as they came, not recounted.
    expect(used()).toEqual({ ...usedEmpty, pods: '10000', 'requests.cpu': '1000' })
    const big = await oneJobPod('job-big')
    // A handful of objects either way (a sorted list the store kept or not); with a scan per pod it
    // would be 10,000 or more.
    expect(empty).toBeLessThan(50)
    expect(Math.abs(big - empty)).toBeLessThanOrEqual(2)
    const deletes: number[] = []
    for (let i = 0; i < 10_000; i++) {
      const v = sim.store.work.visited
      sim.store.delete(POD, NS, `app-${i}`, { gracePeriodSeconds: 0 })
      if (i < 100 || i >= 9_900) deletes.push(sim.store.work.visited - v)
    }
    expect(deletes.slice(100)).toEqual(deletes.slice(0, 100))
    expect(used()).toEqual(usedEmpty)
    expect(Math.abs((await oneJobPod('job-after')) - empty)).toBeLessThanOrEqual(2)
    expect(sim.bugs()).toEqual([])
  })

  it('lists one pod\'s events by field selector without reading the namespace\'s other events', async () => {
    const EVENT = resourceForKind('v1', 'Event')!
    const about = (pod: string, i: number): Obj => ({ metadata: { name: `${pod}.${i}` }, involvedObject: { kind: 'Pod', namespace: NS, name: pod }, reason: 'Started', message: 'Started container build', type: 'Normal' })
    for (let i = 0; i < 3; i++) sim.store.create(EVENT, NS, about('mine', i))
    const cost = async (): Promise<{ visited: number; names: string[] }> => {
      const v = sim.store.work.visited
      const list = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=mine,type=Normal' })
      return { visited: sim.store.work.visited - v, names: list.items.map((e) => e.metadata!.name!) }
    }
    const few = await cost()
    for (let i = 0; i < 10_000; i++) sim.store.create(EVENT, NS, about(`app-${i}`, 0))
    const many = await cost()
    expect(few.names).toEqual(['mine.0', 'mine.1', 'mine.2'])
    expect(many).toEqual(few)
  })
})
