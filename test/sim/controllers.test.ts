/**
 * The workload controllers, driven by the unmodified kubectl: a Job's pod runs to Complete (and
 * `kubectl wait` sees it), a failing Job stops at its backoff limit, a Deployment keeps its replicas
 * through a ReplicaSet (scale, a deleted pod replaced, the whole tree collected with it), and a CronJob
 * starts Jobs on its schedule. The scenario clock runs 1000 times faster: a schedule minute is 60 ms,
 * the job controller's 10 s back-off 10 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { nextAfter, parseSchedule } from '../../src/sim/cron.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

const NS = 'default'
let sim: Sim
beforeAll(async () => {
  sim = await start(withKnobs({ clockFactor: 0.001 }))
})
afterAll(async () => {
  await sim?.stop()
  expect(sim.bugs()).toEqual([])
})

const k = (args: string[]): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, ['-n', NS, ...args])
const json = async (args: string[]): Promise<Record<string, any>> => {
  const r = await k([...args, '-o', 'json'])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as Record<string, any>
}
const podsOf = async (selector: string): Promise<Array<Record<string, any>>> => (await json(['get', 'pods', '-l', selector])).items as Array<Record<string, any>>
const eventsOf = async (name: string): Promise<string[]> => ((await json(['get', 'events', '--field-selector', `involvedObject.name=${name}`])).items as Array<{ reason: string; message: string }>).map((e) => `${e.reason}: ${e.message}`)
const opts = { timeout: 8000, interval: 50 }

describe.runIf(hasKubectl)('workload controllers through kubectl', () => {
  it('a Job gets its defaults and a pod labelled and owned by it, which runs to Complete; kubectl wait sees it', async () => {
    expect((await k(['create', 'job', 'once', '--image=busybox', '--', 'sh', '-c', 'echo done'])).code).toBe(0)
    const job = await json(['get', 'job', 'once'])
    const uid = job.metadata.uid as string
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } } })
    expect(job.spec.manualSelector).toBeUndefined()
    const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'once', 'controller-uid': uid, 'job-name': 'once' }
    expect(job.spec.template.metadata.labels).toEqual(labels)
    const wait = await k(['wait', '--for=condition=complete', 'job/once', '--timeout=20s'])
    expect(wait).toMatchObject({ code: 0, stdout: 'job.batch/once condition met\n' })
    const pods = await podsOf('job-name=once')
    expect(pods).toHaveLength(1)
    const pod = pods[0]!
    expect(pod.metadata.name).toMatch(/^once-[b-z2-9]{5}$/)
    expect(pod.metadata.generateName).toBe('once-')
    expect(pod.metadata.labels).toEqual(labels)
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'once', uid, controller: true, blockOwnerDeletion: true }])
    expect(pod.status.phase).toBe('Succeeded')
    expect((await k(['logs', `pod/${pod.metadata.name}`])).stdout).toBe('done\n')
    const done = await json(['get', 'job', 'once'])
    expect(done.status).toMatchObject({ succeeded: 1, ready: 0, startTime: expect.any(String), completionTime: expect.any(String) })
    expect(done.status.active).toBeUndefined()
    expect(done.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason])).toEqual([['SuccessCriteriaMet', 'True', 'CompletionsReached'], ['Complete', 'True', 'CompletionsReached']])
    expect(await eventsOf('once')).toEqual([`SuccessfulCreate: Created pod: ${pod.metadata.name}`, 'Completed: Job completed'])
    expect((await k(['get', 'job', 'once'])).stdout).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nonce\s+Complete\s+1\/1\s+/)
  })

  it('a failing Job with backoffLimit 1 runs two pods, then fails with BackoffLimitExceeded', async () => {
    const manifest = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'flaky' }, spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 3'] }] } } } }
    expect((await kubectl(sim.kubeconfig, ['-n', NS, 'create', '-f', '-'], JSON.stringify(manifest))).code).toBe(0)
    expect((await k(['wait', '--for=condition=failed', 'job/flaky', '--timeout=20s'])).code).toBe(0)
    const job = await json(['get', 'job', 'flaky'])
    expect(job.status).toMatchObject({ failed: 2 })
    expect(job.status.succeeded).toBeUndefined()
    const failed = job.status.conditions.find((c: { type: string }) => c.type === 'Failed')
    expect(failed).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' })
    const pods = await podsOf('job-name=flaky')
    expect(pods.map((p) => p.status.phase)).toEqual(['Failed', 'Failed'])
    expect((await eventsOf('flaky')).filter((e) => !e.startsWith('SuccessfulCreate'))).toEqual(['BackoffLimitExceeded: Job has reached the specified backoff limit'])
  })

  it('a Deployment keeps its replicas through a ReplicaSet: scaled, a deleted pod replaced, all collected with it', async () => {
    expect((await k(['create', 'deployment', 'web', '--image=nginx', '--replicas=2'])).code).toBe(0)
    const running = async (n: number): Promise<void> => {
      await expect.poll(async () => (await podsOf('app=web')).filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).length, opts).toBe(n)
      await expect.poll(async () => (await json(['get', 'deployment', 'web'])).status.availableReplicas, opts).toBe(n)
    }
    await running(2)
    const rs = (await json(['get', 'rs', '-l', 'app=web'])).items as Array<Record<string, any>>
    expect(rs).toHaveLength(1)
    const hash = rs[0]!.metadata.labels['pod-template-hash'] as string
    expect(rs[0]!.metadata.name).toBe(`web-${hash}`)
    expect(rs[0]!.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', controller: true })])
    const pods = await podsOf('app=web')
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[b-z2-9]{5}$`))
      expect(p.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', name: `web-${hash}` })
    }
    expect((await k(['get', 'rs'])).stdout).toMatch(new RegExp(`^NAME\\s+DESIRED\\s+CURRENT\\s+READY\\s+AGE\\nweb-${hash}\\s+2\\s+2\\s+2\\s+`))
    const d = await json(['get', 'deployment', 'web'])
    expect(d.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 })
    expect(d.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason])).toEqual([['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable']])

    expect((await k(['scale', 'deployment', 'web', '--replicas=3'])).stdout).toBe('deployment.apps/web scaled\n')
    await running(3)
    const victim = (await podsOf('app=web'))[0]!.metadata.name as string
    expect((await k(['delete', 'pod', victim])).code).toBe(0)
    await running(3)
    expect((await podsOf('app=web')).map((p) => p.metadata.name)).not.toContain(victim)
    expect(await eventsOf(`web-${hash}`)).toEqual(expect.arrayContaining([expect.stringMatching(/^SuccessfulCreate: Created pod: web-/)]))
    expect((await eventsOf('web')).filter((e) => e.startsWith('ScalingReplicaSet'))).toEqual([`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 2`, `ScalingReplicaSet: Scaled up replica set web-${hash} from 2 to 3`])

    expect((await k(['delete', 'deployment', 'web'])).code).toBe(0)
    await expect.poll(async () => (await podsOf('app=web')).length, opts).toBe(0)
    expect((await json(['get', 'rs', '-l', 'app=web'])).items).toEqual([])
  })

  it('a CronJob on */1 starts a Job named by its schedule minute, owned by it, and records lastScheduleTime', async () => {
    expect((await k(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'true'])).code).toBe(0)
    const cj = await json(['get', 'cronjob', 'tick'])
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 })
    await expect.poll(async () => ((await json(['get', 'jobs'])).items as Array<{ metadata: { name: string } }>).filter((j) => j.metadata.name.startsWith('tick-')).length, opts).toBeGreaterThan(0)
    expect((await k(['patch', 'cronjob', 'tick', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0)
    const jobs = ((await json(['get', 'jobs'])).items as Array<Record<string, any>>).filter((j) => j.metadata.name.startsWith('tick-'))
    const job = jobs[0]!
    expect(job.metadata.name).toMatch(/^tick-\d{8,}$/)
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }])
    const minute = Number(job.metadata.name.slice('tick-'.length))
    expect(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(minute * 60_000).toISOString().replace('.000Z', 'Z'))
    const status = (await json(['get', 'cronjob', 'tick'])).status
    expect(Date.parse(status.lastScheduleTime) / 60_000).toBeGreaterThanOrEqual(minute)
    expect(await eventsOf('tick')).toEqual(expect.arrayContaining([`SuccessfulCreate: Created job ${job.metadata.name}`]))
    expect((await k(['delete', 'cronjob', 'tick'])).code).toBe(0)
    await expect.poll(async () => ((await json(['get', 'jobs'])).items as Array<{ metadata: { name: string } }>).filter((j) => j.metadata.name.startsWith('tick-')).length, opts).toBe(0)
  })
})

describe('cron schedules', () => {
  const at = (s: string): number => Date.parse(s)
  const next = (expr: string, after: string): string => {
    const s = parseSchedule(expr)
    if (s instanceof Error) throw s
    return new Date(nextAfter(s, at(after))!).toISOString()
  }
  it('finds the next time for steps, ranges, lists, names, macros and the either-day rule', () => {
    expect(next('*/1 * * * *', '2026-12-04T21:05:30Z')).toBe('2026-12-04T21:06:00.000Z')
    expect(next('*/15 * * * *', '2026-12-04T21:05:00Z')).toBe('2026-12-04T21:15:00.000Z')
    expect(next('5-10/2 3 * * *', '2026-12-04T21:05:00Z')).toBe('2026-12-05T03:05:00.000Z')
    expect(next('0 9,17 * * MON-FRI', '2026-12-04T17:00:00Z')).toBe('2026-12-07T09:00:00.000Z')
    expect(next('@monthly', '2026-12-04T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z')
    // Both day fields restricted: the 13th or any Friday, whichever comes first.
    expect(next('0 0 13 * 5', '2026-12-05T00:00:00Z')).toBe('2026-12-11T00:00:00.000Z')
    expect(next('0 0 13 * *', '2026-12-05T00:00:00Z')).toBe('2026-12-13T00:00:00.000Z')
  })
  it('says what does not parse', () => {
    expect(String(parseSchedule('* * * *'))).toBe('Error: expected exactly 5 fields, found 4: * * * *')
    expect(String(parseSchedule('61 * * * *'))).toBe('Error: end of range (61) above maximum (59): 61')
    expect(String(parseSchedule('*/0 * * * *'))).toBe('Error: step of range should be a positive number: */0')
  })
})
