/**
 * run-job never touches what it did not create (issue 18, items 1 and 3), end to end on the simulator:
 * every run names its objects with random suffixes of its own, cleanup deletes only objects whose create
 * the API answered (with their uid as a precondition), what cannot be deleted is read back before it is
 * reported, and a run that leaves something behind exits 3.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { seededRandom } from '../../src/executor/names.js'
import { EXIT } from '../../src/cli/exit-codes.js'
import { KubeConfig } from '@kubernetes/client-node'
import { ObjectClient } from '../../src/runjob/objects.js'
import { expectNothingLeft, listedIn, runOnSim } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-own-'))
writeFileSync(path.join(project, 'README.txt'), 'hello\n')
const flag = path.join(project, 'go')
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, [
  'hello:', '  image: alpine:3.20', '  services:', '    - name: postgres:16', '      alias: db', '  script:', '    - echo "hello from $CI_JOB_NAME"',
  // Waits (polling a file on the host, where the simulator runs build scripts) until the test lets it finish.
  'wait:', '  image: alpine:3.20', '  script:', `    - until [ -e ${flag} ]; do sleep 0.05; done`, '    - echo released',
  'plain:', '  image: alpine:3.20', '  script:', '    - echo plain',
].join('\n') + '\n')

/** Registry credentials make the runner create a Secret before the pod. */
const AUTH = 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c2VjcmV0LWNhbmFyeQ=="}}}'

const podCreates = (sim: Sim, code: number) =>
  sim.audit.filter((e) => e.verb === 'create' && !e.dryRun && e.resource === 'pods' && !e.subresource && e.code === code)

describe('run-job --live: names of its own, cleanup of its own', () => {
  it('8 simultaneous live runs in one namespace all succeed, with 8 distinct pods, and leave nothing', async () => {
    const sim = await start('healthy')
    try {
      const runs = await Promise.all(Array.from({ length: 8 }, () => runOnSim(sim, 'hello', { ciFile, live: true, vars: [AUTH] })))
      expect(runs.map((r) => r.error?.message)).toEqual(Array(8).fill(undefined))
      expect(runs.map((r) => r.result?.exitCode)).toEqual(Array(8).fill(EXIT.OK))
      for (const r of runs) expect(r.out).toMatch(/hello from hello\n[\s\S]*Job succeeded\n$/)
      const names = runs.map((r) => r.result!.objects.map((o) => o.metadata?.name))
      expect(new Set(names.flat()).size).toBe(names.flat().length) // secret, service and pod names all differ
      expect(podCreates(sim, 201)).toHaveLength(8)
      expect(podCreates(sim, 409)).toHaveLength(0)
      expect(await listedIn(sim)).not.toContain(expect.stringMatching(/^(pods|secrets|services)\/runner-/))
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('a run whose create meets another run\'s object (409 AlreadyExists) fails and deletes nothing of the other run', async () => {
    const sim = await start('healthy')
    try {
      // Both runs draw the same names (same seed): the second one's secret create is refused with 409.
      let released!: () => void
      const building = new Promise<void>((resolve) => (released = resolve))
      const first = runOnSim(sim, 'wait', {
        ciFile, live: true, vars: [AUTH], random: seededRandom(42),
        onStage: (stage, state) => void (stage === 'build' && state === 'start' && released()),
      })
      await building
      const before = await listedIn(sim)
      const second = await runOnSim(sim, 'wait', { ciFile, live: true, vars: [AUTH], random: seededRandom(42) })
      expect(second.result?.exitCode).toBe(EXIT.FAILED)
      expect(second.out).toMatch(/already exists/)
      expect(second.result?.live?.cleanup).toEqual({ deleted: 0, left: [], commands: [] })
      expect(second.out).not.toMatch(/left in the cluster/)
      // The first run's secret and pod are still there, and the first run finishes normally.
      expect(await listedIn(sim)).toEqual(before)
      expect(sim.audit.filter((e) => e.verb === 'delete' && e.code !== 404)).toHaveLength(0)
      writeFileSync(flag, '')
      const done = await first
      expect(done.error).toBeUndefined()
      expect(done.result?.exitCode).toBe(EXIT.OK)
      expect(done.out).toMatch(/released\n[\s\S]*Job succeeded\n$/)
      await expectNothingLeft(sim)
    } finally {
      if (existsSync(flag)) writeFileSync(flag, '')
      await sim.stop()
    }
  }, 60_000)

  it('a delete that fails: the leftover is named with its kubectl command and the run exits 3', async () => {
    const scenario = loadScenario('healthy')
    scenario.knobs.faults = [{ match: 'delete pods', rate: 1, kind: 'unavailable' }]
    const sim = await start(scenario)
    try {
      // Every try of the pod DELETE fails: the retries (no waiting here) run out and the pod is left.
      const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], retry: { sleep: async () => undefined } })
      expect(r.error).toBeUndefined()
      const pod = r.result!.objects.find((o) => o.kind === 'Pod')!.metadata!.name!
      expect(r.out).toMatch(/plain\n/)
      expect(r.result?.exitCode).toBe(EXIT.INCOMPLETE)
      expect(r.result?.live?.success).toBe(true)
      expect(r.result?.live?.cleanup.left).toEqual([{ kind: 'Pod', name: pod, reason: 'apiserver is shutting down' }])
      expect(r.out).toContain(`Cleanup could not delete everything; left in the cluster:\n  Pod gitlab-runner/${pod}: apiserver is shutting down\nRemove them with:\n  kubectl delete --ignore-not-found -n gitlab-runner pod/${pod}\n`)
      // What is reported is really there (and only that: the secret was deleted).
      expect((await listedIn(sim)).filter((n) => /runner-/.test(n))).toEqual([`pods/${pod}`])
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('a create refused with 403: the job fails, nothing is deleted or reported as left', async () => {
    const scenario = loadScenario('healthy')
    // The runner's service account may read secrets but neither create nor delete them.
    const role = scenario.objects.find((o) => o.kind === 'Role' && o.metadata?.name === 'gitlab-runner') as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> }
    role.rules.find((r) => r.resources.includes('secrets'))!.verbs = ['get']
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], kubeconfig: sim.kubeconfigFor('runner') })
      expect(r.error).toBeUndefined()
      expect(r.result?.exitCode).toBe(EXIT.FAILED)
      expect(r.out).toMatch(/secrets is forbidden/)
      expect(r.result?.live?.cleanup).toEqual({ deleted: 0, left: [], commands: [] })
      expect(r.out).not.toMatch(/left in the cluster|kubectl delete/)
      expect(sim.audit.filter((e) => e.verb === 'delete')).toHaveLength(0)
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('a create refused with 401: exit 3 (authentication), not a job failure, and no leftover', async () => {
    const sim = await start('healthy')
    try {
      const kubeconfig = path.join(project, 'expired.kubeconfig')
      writeFileSync(kubeconfig, readFileSync(sim.kubeconfigFor('runner'), 'utf8').replace('sim-runner-token', 'expired-token'))
      const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], kubeconfig })
      expect(r.result).toBeUndefined()
      expect(r.error?.exit).toBe(EXIT.INCOMPLETE)
      expect(r.error?.code).toBe('kube-unauthorized')
      expect(r.error?.message).toMatch(/rejected gkr's credentials/)
      expect(r.out).not.toMatch(/left in the cluster|kubectl delete/)
      expect(r.out).not.toContain('expired-token')
      expect(r.error?.message).not.toContain('expired-token')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('a create whose answer was lost (504 after the write): cleanup reads it back, finds this run\'s label and deletes it', async () => {
    const scenario = loadScenario('healthy')
    scenario.knobs.faults = [{ match: 'create secrets', rate: 1, kind: 'timeout', times: 1, after: true }]
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], retry: { sleep: async () => undefined } })
      const secret = r.result!.objects.find((o) => o.kind === 'Secret')!.metadata!.name!
      // The write went through: the API server stored the secret, then the answer was a 504.
      expect(sim.audit.find((e) => e.verb === 'create' && e.resource === 'secrets')?.code).toBe(504)
      expect(r.result?.exitCode).toBe(EXIT.FAILED)
      expect(r.out).toMatch(/creating secret .*Timeout: request did not complete/)
      const deletes = sim.audit.filter((e) => e.verb === 'delete' && e.resource === 'secrets')
      expect(deletes.map((e) => [e.name, e.code])).toEqual([[secret, 200]])
      expect(r.result?.live?.cleanup).toEqual({ deleted: 1, left: [], commands: [] })
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('an unanswered create whose name holds another party\'s object (no run label): cleanup reads it back and leaves it alone', async () => {
    const scenario = loadScenario('healthy')
    const sim = await start(scenario)
    try {
      // The same seed draws the same names: the other party's secret has the name this run will try.
      const names = await runOnSim(sim, 'plain', { ciFile, vars: [AUTH], random: seededRandom(7) })
      const kc = new KubeConfig()
      kc.loadFromFile(sim.kubeconfigFor('admin'))
      const admin = new ObjectClient(kc)
      const secretName = names.result!.objects.find((o) => o.kind === 'Secret')!.metadata!.name!
      const theirs = (await admin.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName }, stringData: { a: 'b' } }, 'gitlab-runner')).metadata!.uid!
      // Every secret create loses its connection before anything is written (the simulator reads its knobs on every request).
      scenario.knobs.faults = [{ match: 'create secrets', rate: 1, kind: 'reset' }]
      const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], random: seededRandom(7), retry: { sleep: async () => undefined } })
      expect(r.error?.exit).toBe(EXIT.INCOMPLETE)
      expect(r.error?.message).toMatch(/creating secret .*dropped the connection/)
      // Read back (a get), found without this run's label: not deleted.
      expect(sim.audit.filter((e) => e.verb === 'get' && e.resource === 'secrets' && e.name === secretName).map((e) => e.code)).toEqual([200])
      expect(sim.audit.filter((e) => e.verb === 'delete')).toHaveLength(0)
      expect(await admin.readUid({ apiVersion: 'v1', kind: 'Secret', namespace: 'gitlab-runner', name: secretName })).toBe(theirs)
      expect(r.out).not.toMatch(/left in the cluster/)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('a retried create that went through the first time (answer lost, then 409 AlreadyExists) adopts its own object: the job succeeds', async () => {
    for (const kind of ['reset', 'unavailable'] as const) {
      const scenario = loadScenario('healthy')
      scenario.knobs.faults = [{ match: 'create pods', rate: 1, kind, times: 1, after: true }]
      const sim = await start(scenario)
      try {
        const r = await runOnSim(sim, 'plain', { ciFile, live: true, vars: [AUTH], retry: { sleep: async () => undefined } })
        expect(podCreates(sim, 409)).toHaveLength(1)
        expect(r.error?.message).toBeUndefined()
        expect(r.out).toMatch(/plain\n[\s\S]*Job succeeded\n$/)
        expect(r.result?.exitCode).toBe(EXIT.OK)
        expect(r.result?.live?.cleanup.left).toEqual([])
        await expectNothingLeft(sim)
      } finally {
        await sim.stop()
      }
    }
  }, 60_000)

  it('an interrupt while cleanup cannot delete: exit 130 wins, and the error (stderr) names what is left', async () => {
    const scenario = loadScenario('healthy')
    scenario.knobs.faults = [{ match: 'delete pods', rate: 1, kind: 'unavailable' }]
    const sim = await start(scenario)
    try {
      const ac = new AbortController()
      const r = await runOnSim(sim, 'plain', {
        ciFile, live: true, signal: ac.signal, retry: { sleep: async () => undefined },
        onStage: (stage, state) => void (stage === 'cleanup' && state === 'start' && ac.abort(new Error('interrupted by SIGINT'))),
      })
      expect(r.error?.exit).toBe(EXIT.INTERRUPTED)
      const pod = (await listedIn(sim)).find((n) => n.startsWith('pods/runner-'))!.slice('pods/'.length)
      expect(r.error?.message).toBe(`interrupted; 1 object(s) left: kubectl delete --ignore-not-found -n gitlab-runner pod/${pod}`)
    } finally {
      await sim.stop()
    }
  }, 60_000)

  it('ObjectClient deletes with the uid as a precondition: a recreated object of the same name is not deleted (409 → conflict)', async () => {
    const sim = await start('healthy')
    try {
      const kc = new KubeConfig()
      kc.loadFromFile(sim.kubeconfigFor('admin'))
      const client = new ObjectClient(kc)
      const ref = { apiVersion: 'v1', kind: 'Secret', namespace: 'gitlab-runner', name: 'runner-x-creds' }
      const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name }, stringData: { a: 'b' } }
      const mine = (await client.create(body, ref.namespace)).metadata!.uid!
      expect(await client.readUid(ref)).toBe(mine)
      expect(await client.delete(ref, mine)).toBe('deleted')
      expect(await client.readUid(ref)).toBeUndefined()
      expect(await client.delete(ref, mine)).toBe('not-found')
      const theirs = (await client.create(body, ref.namespace)).metadata!.uid!
      expect(await client.delete(ref, mine)).toBe('conflict')
      expect(await client.readUid(ref)).toBe(theirs)
      expect(await client.delete(ref, theirs)).toBe('deleted')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})
