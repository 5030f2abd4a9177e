import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/runjob/clock.js'
import { CleanupLedger, type ObjectRef } from '../../src/runjob/ledger.js'
import type { KubeObject } from '../../src/runjob/objects.js'
import { preparePod, type PrepareInput } from '../../src/runjob/prepare.js'
import type { GkrError } from '../../src/util/errors.js'

/** An in-memory namespace standing in for the API: stores objects, answers pod reads from a script. */
function fakeCluster(opts: { rejectPod?: string; podStates?: Partial<V1Pod['status']>[]; warnings?: string[] } = {}) {
  const store = new Map<string, KubeObject>()
  const key = (kind: string | undefined, name: string | undefined) => `${kind}/${name}`
  let reads = 0
  const apiError = (code: number, message: string) => Object.assign(new Error('HTTP-Code: ' + code), { code, body: JSON.stringify({ kind: 'Status', code, message }) })
  const client: PrepareInput['client'] = {
    async create(obj) {
      if (obj.kind === 'Pod' && opts.rejectPod) throw apiError(403, opts.rejectPod)
      const out = { ...obj, metadata: { ...obj.metadata, uid: `uid-${obj.metadata?.name}` } }
      store.set(key(obj.kind, obj.metadata?.name), out)
      return out
    },
    async setOwner(obj, pod) {
      const out = { ...obj, metadata: { ...obj.metadata, ownerReferences: [{ kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid }] } }
      store.set(key(obj.kind, obj.metadata?.name), out)
      return out
    },
    async readPod(_ns, name) {
      const states = opts.podStates ?? [{ phase: 'Running', containerStatuses: [{ name: 'build', ready: true, image: 'x', imageID: '', restartCount: 0 }] }]
      const status = states[Math.min(reads++, states.length - 1)]
      return { metadata: { name }, spec: { containers: [] }, status } as V1Pod
    },
    async podWarnings() {
      return (opts.warnings ?? []).map((m, i) => ({ type: 'Warning', reason: 'FailedScheduling', message: m, metadata: { uid: `e${i}` }, involvedObject: {} }))
    },
  }
  const del = async (ref: ObjectRef) => (store.delete(key(ref.kind, ref.name)) ? 'deleted' as const : 'not-found' as const)
  return { client, store, del, reads: () => reads }
}

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'runner-x-creds' }, data: {} },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner-x' }, spec: { containers: [] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: {} },
]

const explain = (m: string) =>
  m.includes('denied') ? { id: 'webhook-denied', fix: 'Ask for a policy exception.' }
    : m.includes("didn't match Pod's node affinity/selector") ? { id: 'no-matching-nodes', fix: 'Fix node_selector.' }
      : m.includes('ImagePullBackOff') ? { id: 'image-pull-failed' }
        : undefined

function input(c: ReturnType<typeof fakeCluster>, over: Partial<PrepareInput> = {}) {
  const lines: string[] = []
  const ledger = new CleanupLedger()
  const clock = new ManualClock(0, true)
  const base: PrepareInput = {
    client: c.client, ledger, namespace: 'ci', objects, pollIntervalMs: 3000, pollTimeoutMs: 180_000,
    printWarningEvents: true, clock, signal: new AbortController().signal, log: (l) => lines.push(l), explain, ...over,
  }
  return { base, lines, ledger, clock }
}

async function failure(p: Promise<unknown>): Promise<GkrError> {
  try {
    await p
  } catch (err) {
    return err as GkrError
  }
  throw new Error('expected a failure')
}

describe('preparePod', () => {
  it('creates secret and service, then the pod, then sets ownerReferences; waits until build is ready', async () => {
    const c = fakeCluster({ podStates: [{ phase: 'Pending' }, { phase: 'Running', containerStatuses: [{ name: 'build', ready: true, image: 'x', imageID: '', restartCount: 0 }] }] })
    const { base, lines, ledger } = input(c)
    const pod = await preparePod(base)
    expect(pod.status?.phase).toBe('Running')
    expect(c.store.get('Secret/runner-x-creds')?.metadata?.ownerReferences).toEqual([{ kind: 'Pod', name: 'runner-x', uid: 'uid-runner-x' }])
    expect(c.store.get('Service/db')?.metadata?.ownerReferences).toHaveLength(1)
    expect(ledger.entries.map((e) => `${e.kind}:${e.state}`)).toEqual(['Secret:created', 'Service:created', 'Pod:created'])
    expect(lines[0]).toBe('Waiting for pod ci/runner-x to be running on the node <unknown>, status is Pending')
    await ledger.cleanup(c.del, { timeoutMs: 1000, clock: new ManualClock() })
    expect(c.store.size).toBe(0)
  })

  it('pod rejected after the secret was created: nothing leaks, failure explained', async () => {
    const c = fakeCluster({ rejectPod: 'admission webhook "deny.example" denied the request: no privileged' })
    const { base, ledger } = input(c)
    const err = await failure(preparePod(base))
    expect(err.exit).toBe(1)
    expect(err.message).toBe('setting up build pod: creating pod runner-x: admission webhook "deny.example" denied the request: no privileged')
    expect(err.ref).toBe('webhook-denied')
    expect(err.suggestions).toEqual(['Ask for a policy exception.'])
    expect(c.store.size).toBe(2)
    const report = await ledger.cleanup(c.del, { timeoutMs: 1000, clock: new ManualClock() })
    expect(report.left).toEqual([])
    expect(c.store.size).toBe(0)
  })

  it('slow scheduling beyond poll_timeout: the runner message, Pending reasons logged, catalog from the reason', async () => {
    const pending = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector." }] }
    const c = fakeCluster({ podStates: [pending], warnings: ["0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."] })
    const { base, lines, clock } = input(c, { pollTimeoutMs: 30_000 })
    const err = await failure(preparePod(base))
    expect(err.message).toBe('waiting for pod running: timed out waiting for pod to start (last phase: Pending)')
    expect(err.ref).toBe('no-matching-nodes')
    expect(c.reads()).toBe(11)
    expect(clock.now()).toBe(30_000)
    expect(lines).toContain(`\tUnschedulable: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."`)
    expect(lines.filter((l) => l.startsWith('\tWarning FailedScheduling'))).toHaveLength(1)
  })

  it('image pull failure fails fast with the runner message', async () => {
    const c = fakeCluster({ podStates: [{ phase: 'Pending', containerStatuses: [{ name: 'build', ready: false, image: 'nope', imageID: '', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' } } }] }] })
    const err = await failure(preparePod(input(c).base))
    expect(err.message).toBe('image pull failed: Back-off pulling image "nope"')
    expect(err.ref).toBe('image-pull-failed')
  })

  it('abort while waiting stops the wait; cleanup removes everything', async () => {
    const c = fakeCluster({ podStates: [{ phase: 'Pending' }] })
    const ac = new AbortController()
    const clock = new ManualClock()
    const { base, ledger } = input(c, { signal: ac.signal, clock })
    const run = preparePod(base)
    while (clock.pending === 0) await new Promise((r) => setImmediate(r))
    ac.abort(new Error('interrupted by SIGINT'))
    await expect(run).rejects.toThrow('interrupted by SIGINT')
    await ledger.cleanup(c.del, { timeoutMs: 1000, clock: new ManualClock() })
    expect(c.store.size).toBe(0)
  })
})
