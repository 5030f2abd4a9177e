import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import type { LoadedRunner } from '../../src/config/types.js'
import { ManualClock } from '../../src/runjob/clock.js'
import type { KubeObject } from '../../src/runjob/objects.js'
import { CLUSTER_DNS_NAME, parseProbeLog, probePod, runProbe, type ProbeTarget } from '../../src/runjob/probe.js'

const runner: LoadedRunner = {
  index: 0, name: 'r', executor: 'kubernetes', featureFlags: {}, path: ['runners', 0],
  settings: { kubernetes: { poll_interval: 3, poll_timeout: 30, cleanup_resources_timeout: 300 } },
}
const model: KubeObject = {
  kind: 'Pod', metadata: { name: 'runner-x', labels: { app: 'ci' } },
  spec: {
    serviceAccountName: 'ci-sa', nodeSelector: { pool: 'ci' }, tolerations: [{ key: 'ci', operator: 'Exists' }],
    dnsPolicy: 'None', dnsConfig: { nameservers: ['10.0.0.10'] }, volumes: [{ name: 'repo', emptyDir: {} }],
    containers: [{ name: 'build', image: 'alpine' }, { name: 'helper', image: 'gitlab-runner-helper:x86_64-v17' }],
  },
}

function fake(states: Partial<V1Pod['status']>[], log = '', opts: { rejectCreate?: boolean } = {}) {
  const pods = new Map<string, KubeObject>()
  let reads = 0
  const client: NonNullable<ProbeTarget['client']> = {
    async create(obj) {
      if (opts.rejectCreate) throw Object.assign(new Error('x'), { code: 403, body: { message: 'pods "gkr-probe-t" is forbidden: exceeded quota' } })
      pods.set(obj.metadata!.name!, obj)
      return { ...obj, metadata: { ...obj.metadata, uid: 'u' } }
    },
    async readPod(_ns, name) {
      return { metadata: { name }, status: states[Math.min(reads++, states.length - 1)] } as V1Pod
    },
    async podLog() {
      return log
    },
    async podWarnings() {
      return [{ type: 'Warning', reason: 'FailedScheduling', message: '0/1 nodes are available', involvedObject: {}, metadata: {} }]
    },
    async delete(ref) {
      return pods.delete(ref.name) ? 'deleted' : 'not-found'
    },
  }
  return { client, pods }
}

describe('probePod', () => {
  it('copies the job pod scheduling and DNS fields and uses the helper image', () => {
    const pod = probePod(model, 'ci', 'gkr-probe-t', ['gitlab.example.com', CLUSTER_DNS_NAME])
    const spec = pod.spec as Record<string, unknown>
    expect(spec).toMatchObject({ serviceAccountName: 'ci-sa', nodeSelector: { pool: 'ci' }, dnsPolicy: 'None', dnsConfig: { nameservers: ['10.0.0.10'] }, restartPolicy: 'Never' })
    expect(spec.volumes).toBeUndefined()
    const c = (spec.containers as { image: string; command: string[] }[])[0]!
    expect(c.image).toBe('gitlab-runner-helper:x86_64-v17')
    expect(c.command[2]).toContain("getent hosts 'gitlab.example.com'")
    expect(pod.metadata?.labels).toEqual({ app: 'ci', 'gkr.dev/probe': 'true' })
  })
})

describe('parseProbeLog', () => {
  it('reads addresses, failures and the MTU', () => {
    const r = parseProbeLog('gkr-dns gitlab.example.com 10.1.2.3 10.1.2.4\ngkr-dns kubernetes.default.svc \ngkr-mtu 1450\n', ['gitlab.example.com', 'kubernetes.default.svc'])
    expect(r).toEqual({
      dns: [
        { host: 'gitlab.example.com', resolved: true, addresses: ['10.1.2.3', '10.1.2.4'] },
        { host: 'kubernetes.default.svc', resolved: false, error: 'kubernetes.default.svc did not resolve' },
      ],
      mtu: 1450,
    })
  })
})

describe('runProbe', () => {
  const opts = (clock: ManualClock, signal?: AbortSignal) => ({ runner, rendered: { pod: model }, gitlabHost: 'gitlab.example.com', clock, nameSuffix: 't', ...(signal ? { signal } : {}) })

  it('measures time to ready, reads results and deletes the pod', async () => {
    const clock = new ManualClock(0, true)
    const f = fake([{ phase: 'Pending' }, { phase: 'Pending' }, { phase: 'Succeeded' }], 'gkr-dns gitlab.example.com 10.0.0.1\ngkr-dns kubernetes.default.svc 10.96.0.1\ngkr-mtu 1500\n')
    const r = await runProbe({ namespace: 'ci', client: f.client }, opts(clock))
    expect(r.timeToReadyMs).toBe(6000)
    expect(r.dns.every((d) => d.resolved)).toBe(true)
    expect(r.mtu).toBe(1500)
    expect(r.error).toBeUndefined()
    expect(r.events).toEqual(['FailedScheduling: 0/1 nodes are available'])
    expect(f.pods.size).toBe(0)
  })

  it('times out after poll_timeout with the runner message and still deletes the pod', async () => {
    const clock = new ManualClock(0, true)
    const f = fake([{ phase: 'Pending' }])
    const r = await runProbe({ namespace: 'ci', client: f.client }, opts(clock))
    expect(r.error).toBe('timed out waiting for pod to start (last phase: Pending)')
    expect(r.timeToReadyMs).toBeUndefined()
    expect(clock.now()).toBe(30_000)
    expect(f.pods.size).toBe(0)
  })

  it('a rejected create is reported with the API message', async () => {
    const f = fake([], '', { rejectCreate: true })
    const r = await runProbe({ namespace: 'ci', client: f.client }, opts(new ManualClock(0, true)))
    expect(r.error).toBe('pods "gkr-probe-t" is forbidden: exceeded quota')
  })

  it('abort deletes the pod and rethrows the reason', async () => {
    const clock = new ManualClock()
    const f = fake([{ phase: 'Pending' }])
    const ac = new AbortController()
    const run = runProbe({ namespace: 'ci', client: f.client }, opts(clock, ac.signal))
    while (clock.pending === 0) await new Promise((r) => setImmediate(r))
    expect(f.pods.size).toBe(1)
    ac.abort(new Error('interrupted'))
    await expect(run).rejects.toThrow('interrupted')
    expect(f.pods.size).toBe(0)
  })
})
