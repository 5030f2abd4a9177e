/**
 * One transient API error on each verb run-job uses (issue 18, item 2): every call goes through the
 * cluster target's retry policy, as doctor's do and as the runner's do, so a single 429, 503, etcd 500
 * or dropped connection neither fails the job nor leaves objects behind.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadScenario, start } from '../../src/sim/index.js'
import type { Fault } from '../../src/sim/scenario.js'
import { expectNothingLeft, listedIn, runOnSim } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-transient-'))
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, ['hello:', '  image: alpine:3.20', '  script:', '    - echo hello from the pod'].join('\n') + '\n')
/** Registry credentials make the runner create a Secret before the pod (and set the pod as its owner). */
const AUTH = 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c2VjcmV0LWNhbmFyeQ=="}}}'

const cases: Array<{ verb: string; kind: Fault['kind']; status: number }> = [
  { verb: 'create secrets', kind: 'unavailable', status: 503 },
  { verb: 'create pods', kind: 'throttle', status: 429 },
  { verb: 'update secrets', kind: 'etcd', status: 500 },
  { verb: 'get pods', kind: 'reset', status: -1 },
  { verb: 'delete pods', kind: 'throttle', status: 429 },
  { verb: 'delete secrets', kind: 'unavailable', status: 503 },
]

describe('run-job --live retries one transient error on every API verb it uses', () => {
  for (const c of cases) {
    it(`${c.verb}: one ${c.status === -1 ? 'dropped connection' : `HTTP ${c.status}`}, retried: the job succeeds, exit 0, nothing left`, async () => {
      const scenario = loadScenario('healthy')
      scenario.knobs.faults = [{ match: c.verb, rate: 1, kind: c.kind, times: 1 }]
      const sim = await start(scenario)
      const waits: number[] = []
      try {
        const r = await runOnSim(sim, 'hello', { ciFile, live: true, vars: [AUTH], retry: { sleep: async (ms) => void waits.push(ms) } })
        expect(r.error).toBeUndefined()
        expect(r.out).toContain('hello from the pod')
        expect(r.out).toMatch(/Job succeeded\n$/)
        expect(r.result?.exitCode).toBe(0)
        expect(r.result?.live?.cleanup.left).toEqual([])
        const [verb, resource] = c.verb.split(' ')
        const tries = sim.audit.filter((e) => e.verb === verb && e.resource === resource && !e.subresource && !e.dryRun)
        // The fault was injected, then the call was made again and answered (a secret the garbage
        // collector removed with its owner pod in the meantime is a 404, which is as good as deleted).
        expect(tries[0]?.code).toBe(c.status)
        expect(tries.slice(1).some((e) => (e.code! >= 200 && e.code! < 300) || (verb === 'delete' && e.code === 404))).toBe(true)
        expect(waits.length).toBe(1)
        await expectNothingLeft(sim)
      } finally {
        await sim.stop()
      }
    })
  }

  it('a fault that does not pass (every pod delete throttled) leaves the pod, says so, and the run does not end with exit 0', async () => {
    const scenario = loadScenario('healthy')
    scenario.knobs.faults = [{ match: 'delete pods', rate: 1, kind: 'throttle' }]
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, 'hello', { ciFile, live: true, retry: { sleep: async () => undefined } })
      expect(r.result?.live?.cleanup.left.map((l) => l.kind)).toEqual(['Pod'])
      expect(r.out).toMatch(/Job succeeded, but cleanup left 1 object\(s\) in the cluster\n$/)
      expect(r.out).toContain('kubectl delete --ignore-not-found -n gitlab-runner pod/')
      expect(r.result?.exitCode).toBe(3)
      expect((await listedIn(sim)).filter((n) => n.startsWith('pods/'))).toHaveLength(1)
    } finally {
      await sim.stop()
    }
  })
})
