import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { parseCiSource } from '../../src/ci/parse.js'
import type { LoadedRunner } from '../../src/config/types.js'
import { ManualClock } from '../../src/runjob/clock.js'
import type { KubeObject, ObjectClient } from '../../src/runjob/objects.js'
import { liveSettings, runJob } from '../../src/runjob/run.js'

const runner: LoadedRunner = {
  index: 0, name: 'k8s', executor: 'kubernetes', featureFlags: {}, path: ['runners', 0],
  settings: { kubernetes: { poll_interval: 5, poll_timeout: 10, print_pod_warning_events: false } },
}
const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { '.dockerconfigjson': 'cGFzc3dvcmQ=' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner-x' }, spec: { containers: [{ name: 'build', image: 'alpine' }] } },
]
const job = parseCiSource('job:\n  script: [echo hi]\n  needs: [x]\n', 'ci.yml').jobs.job!

describe('liveSettings', () => {
  it('reads poll and cleanup settings with the runner defaults', () => {
    expect(liveSettings(runner)).toEqual({ pollIntervalMs: 5000, pollTimeoutMs: 10_000, cleanupTimeoutMs: 300_000, printWarningEvents: false, strategy: 'attach' })
  })
})

describe('runJob', () => {
  it('dry-run: prints redacted objects, says what is unsupported, exit 1 on a rejection', async () => {
    const persisted: string[] = []
    const client = {
      async create(obj: KubeObject, _ns: string, opts?: { dryRun?: boolean }) {
        if (!opts?.dryRun) persisted.push(obj.metadata!.name!)
        if (obj.kind === 'Pod') throw Object.assign(new Error('x'), { code: 403, body: { message: 'pods "runner-x" is forbidden: exceeded quota: compute, requested: limits.cpu=2' } })
        return obj
      },
    } as unknown as ObjectClient
    let out = ''
    const r = await runJob({
      job, runner, namespace: 'ci', objects, mode: 'dry-run', client, clock: new ManualClock(), signal: new AbortController().signal,
      write: (t) => (out += t), explain: (m) => (m.includes('exceeded quota') ? { id: 'quota-exceeded', fix: 'Lower the requests or raise the quota.' } : undefined),
    })
    expect(r.exitCode).toBe(1)
    expect(persisted).toEqual([])
    expect(r.unsupported).toEqual(['needs'])
    expect(out).toContain('Note: gkr does not act on needs in job job')
    expect(out).not.toContain('cGFzc3dvcmQ=')
    expect(JSON.stringify(r)).not.toContain('cGFzc3dvcmQ=')
    expect(out).toContain('catalog: quota-exceeded')
    expect(r.dryRun?.steps.map((s) => s.accepted)).toEqual([true, false])
  })

  it('live: a pod that never schedules times out with the runner message; nothing left', async () => {
    const store = new Set<string>()
    const client = {
      async create(obj: KubeObject) { store.add(obj.metadata!.name!); return obj },
      async setOwner(obj: KubeObject) { return obj },
      async readPod() { return { status: { phase: 'Pending' } } as V1Pod },
      async podWarnings() { return [] },
      async delete(ref: { name: string }) { return store.delete(ref.name) ? 'deleted' : 'not-found' },
    } as unknown as ObjectClient
    let out = ''
    const r = await runJob({
      job, runner, namespace: 'ci', objects, mode: 'live', client, exec: async () => 0, clock: new ManualClock(0, true),
      signal: new AbortController().signal, write: (t) => (out += t),
    })
    expect(r.exitCode).toBe(1)
    expect(r.live?.failure?.message).toBe('ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start (last phase: Pending). Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information')
    expect(out.match(/Waiting for pod ci\/runner-x/g)).toHaveLength(3)
    expect(store.size).toBe(0)
    expect(r.live?.cleanup).toEqual({ deleted: 2, left: [], commands: [] })
  })
})
