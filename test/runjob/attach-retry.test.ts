/**
 * Exec and attach connections are retried like every other API call (issue 17): a transient failure of
 * the WebSocket upgrade (503, 429, a dropped connection) is tried again, because nothing of the script
 * has been sent yet; once the stream is open it is never tried again, and an attempt gkr gave up on
 * never receives the script.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { KubeConfig } from '@kubernetes/client-node'
import { loadScenario, start } from '../../src/sim/index.js'
import type { Fault } from '../../src/sim/scenario.js'
import { openStream, type StreamSocket } from '../../src/runjob/exec.js'
import type { ApiCall } from '../../src/runjob/objects.js'
import { expectNothingLeft, runOnSim } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-stream-retry-'))
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, ['hello:', '  image: alpine:3.20', '  script:', '    - echo hello from the pod'].join('\n') + '\n')

const cases: Array<{ match: string; kind: Fault['kind']; status: number }> = [
  { match: 'create pods/attach', kind: 'unavailable', status: 503 },
  { match: 'create pods/attach', kind: 'throttle', status: 429 },
  { match: 'create pods/attach', kind: 'reset', status: -1 },
  { match: 'create pods/exec', kind: 'reset', status: -1 },
]

describe('run-job --live retries a failed exec/attach upgrade', () => {
  for (const c of cases) {
    it(`${c.match}: one ${c.status === -1 ? 'dropped connection' : `HTTP ${c.status}`} on the upgrade, retried: the script runs once, exit 0`, async () => {
      const scenario = loadScenario('healthy')
      scenario.knobs.faults = [{ match: c.match, rate: 1, kind: c.kind, times: 1 }]
      const sim = await start(scenario)
      const waits: number[] = []
      try {
        const r = await runOnSim(sim, 'hello', { ciFile, live: true, retry: { sleep: async (ms) => void waits.push(ms) } })
        expect(r.error).toBeUndefined()
        expect(r.result?.exitCode).toBe(0)
        expect(r.out.match(/^hello from the pod$/gm)).toHaveLength(1)
        const sub = c.match.split('/')[1]
        const upgrades = sim.audit.filter((e) => e.subresource === sub)
        expect(upgrades[0]?.code).toBe(c.status)
        expect(upgrades[1]?.code).toBe(101)
        expect(waits).toEqual([500])
        await expectNothingLeft(sim)
      } finally {
        await sim.stop()
      }
    })
  }

  it('an upgrade that keeps failing (every attach 503): retry_limit tries, then exit 3 naming the stream, nothing left', async () => {
    const scenario = loadScenario('healthy')
    scenario.knobs.faults = [{ match: 'create pods/attach', rate: 1, kind: 'unavailable' }]
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, 'hello', { ciFile, live: true, retry: { sleep: async () => undefined } })
      expect(r.error?.code).toBe('stream-unavailable')
      expect(r.error?.exit).toBe(3)
      expect(r.error?.message).toMatch(/^the API server answered HTTP 503 when opening pods\/attach on pod gitlab-runner\/\S+, also on every retry$/)
      // retry_limit defaults to 5 tries in all.
      expect(sim.audit.filter((e) => e.subresource === 'attach').map((e) => e.code)).toEqual([503, 503, 503, 503, 503])
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

describe('openStream', () => {
  const kc = { getCurrentUser: () => ({ name: 'u' }) } as unknown as KubeConfig
  const socket = (): StreamSocket & { closed: boolean } => {
    const s = { closed: false, close: () => void (s.closed = true), on: () => s }
    return s
  }

  it('feeds stdin only to the attempt that was accepted; one that opens after gkr gave up is closed, unfed', async () => {
    const gates: Array<Readable | null> = []
    const sockets: Array<ReturnType<typeof socket>> = []
    let releaseFirst: () => void = () => undefined
    const open = (stdin: Readable | null): Promise<StreamSocket> => {
      gates.push(stdin)
      const s = socket()
      sockets.push(s)
      // The first attempt hangs until released; the second opens at once.
      return gates.length === 1 ? new Promise((resolve) => (releaseFirst = () => resolve(s))) : Promise.resolve(s)
    }
    // A call that gives up on the first attempt (as a time limit would) and makes a second one.
    const call: ApiCall = async (_what, fn) => {
      void fn()
      return fn()
    }
    const stdin = new PassThrough()
    const ws = await openStream(kc, { namespace: 'ci', pod: 'p', subresource: 'attach' }, stdin, { call }, open)
    expect(ws).toBe(sockets[1])
    releaseFirst()
    await new Promise((r) => setImmediate(r))
    expect(sockets[0]!.closed).toBe(true)
    stdin.end('the script\n')
    const read = async (r: Readable | null): Promise<string> => {
      let t = ''
      r!.on('data', (c: Buffer) => void (t += c.toString()))
      await new Promise((res) => setImmediate(res))
      return t
    }
    expect(await read(gates[1]!)).toBe('the script\n')
    expect(await read(gates[0]!)).toBe('')
  })

  it('a refused upgrade is never retried by itself: 403 becomes the stream-refused failure (exit 1)', async () => {
    let tries = 0
    const err = await openStream(kc, { namespace: 'ci', pod: 'p', subresource: 'exec' }, undefined, {}, async () => {
      tries++
      throw Object.assign(new Error('Unexpected server response: 403'), { target: { url: 'wss://h/api/v1/namespaces/ci/pods/p/exec' } })
    }).catch((e: unknown) => e)
    expect(tries).toBe(1)
    expect(err).toMatchObject({ code: 'stream-refused', exit: 1, ref: 'rbac-forbidden' })
    expect((err as Error).message).toBe('ERROR: Job failed (system failure): the API server refused pods/exec on pod ci/p (403 Forbidden): the kubeconfig user "u" may not create pods/exec in namespace ci')
  })
})
