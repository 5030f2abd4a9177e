/**
 * The simulator's per-pod folders (os.tmpdir()/gkr-sim-pods/<uid>, where a pod's containers keep their
 * files) are removed when the pod is deleted, and for the pods still there when the simulator stops
 * (issue 17: they used to stay forever).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { start } from '../../src/sim/index.js'
import type { Obj } from '../../src/sim/store.js'
import { runOnSim } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-pod-dirs-'))
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, ['hello:', '  image: alpine:3.20', '  script:', '    - echo hello > /builds/out.txt'].join('\n') + '\n')
const dirOf = (uid: string): string => path.join(os.tmpdir(), 'gkr-sim-pods', uid)

describe('simulated pod folders', () => {
  it('a live job\'s pod folder exists while it runs and is gone once the pod is deleted', async () => {
    const sim = await start('healthy')
    const uids: string[] = []
    let seenWhileRunning = false
    sim.store.events.on('change', (e: { type: string; def: { resource: string }; object: Obj }) => {
      if (e.def.resource === 'pods' && e.type === 'ADDED') uids.push(String(e.object.metadata.uid))
    })
    try {
      const r = await runOnSim(sim, 'hello', {
        ciFile, live: true,
        onStage: (stage, state) => void (stage === 'build' && state === 'done' && (seenWhileRunning = existsSync(path.join(dirOf(uids[0]!), 'volumes')))),
      })
      expect(r.result?.exitCode).toBe(0)
      expect(uids).toHaveLength(1)
      expect(seenWhileRunning).toBe(true)
      expect(existsSync(dirOf(uids[0]!))).toBe(false)
    } finally {
      await sim.stop()
    }
  })

  it('a pod still running when the simulator stops loses its folder at stop', async () => {
    const sim = await start('healthy')
    const kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfig)
    const core = kc.makeApiClient(CoreV1Api)
    const pod = await core.createNamespacedPod({ namespace: 'gitlab-runner', body: { metadata: { name: 'stays' }, spec: { containers: [{ name: 'c', image: 'alpine:3.20', command: ['sleep', '30'], resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } } }] } } })
    const dir = dirOf(pod.metadata!.uid!)
    for (let i = 0; i < 200 && !existsSync(dir); i++) await new Promise((r) => setTimeout(r, 10))
    expect(existsSync(dir)).toBe(true)
    await sim.stop()
    expect(existsSync(dir)).toBe(false)
  })
})
