import { afterEach, describe, expect, it } from 'vitest'
import Cleanup from '../../src/commands/cleanup.js'
import Doctor from '../../src/commands/doctor.js'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { findResource } from '../../src/sim/resources.js'
import { runCommand } from '../helpers/run-command.js'

/**
 * The lifecycle scenarios through the CLI, as a user runs them: doctor and cleanup on
 * pods-stuck-terminating (pods a finalizer keeps Terminating).
 */

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const STUCK = ['runner-abcd1234-project-42-concurrent-0-x7k2q', 'runner-abcd1234-project-42-concurrent-1-m4n8p']

describe('pods-stuck-terminating', () => {
  it('doctor names the stuck pods and the finalizer that keeps them', async () => {
    sim = await start(loadScenario('pods-stuck-terminating'))
    const r = await runCommand(Doctor, ['--as-runner', '--json'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
    const env = JSON.parse(r.stdout) as { result: { runners: Array<{ results: Array<{ id: string; status: string; findings: Array<{ message: string; details?: Record<string, unknown> }> }> }> } }
    const leaked = env.result.runners.flatMap((x) => x.results).find((x) => x.id === 'cluster-leaked-resources')!
    expect(leaked.status).toBe('warn')
    const finding = leaked.findings.find((f) => f.details?.state === 'Terminating')!
    expect(finding.message).toBe(`2 runner pods are stuck Terminating, past the end of their grace period (${STUCK.join(', ')}): the finalizer backup.example.com/protect keeps them, and no controller removes it; they still count against the namespace's pod quota`)
    // Not also reported as pods still running after the job timeout.
    expect(leaked.findings.some((f) => /still Running/.test(f.message))).toBe(false)
  })

  it('cleanup lists them; --yes removes the finalizers, and the deletions requested two hours ago complete', async () => {
    sim = await start(loadScenario('pods-stuck-terminating'))
    const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
    const dry = await runCommand(Cleanup, [], { env })
    expect(dry.code).toBe(1)
    for (const name of STUCK) expect(dry.stdout).toMatch(new RegExp(`^leaked  Pod/${name} in gitlab-runner \\(created \\S+; stuck Terminating, its grace period ended \\S+; kept by finalizer backup.example.com/protect\\)$`, 'm'))
    expect(sim.writes()).toEqual([])
    const yes = await runCommand(Cleanup, ['--yes'], { env })
    expect([yes.code, yes.stderr]).toEqual([0, ''])
    for (const name of STUCK) expect(yes.stdout).toContain(`deleted Pod/${name} in gitlab-runner`)
    await expect.poll(() => sim!.store.list(findResource('', 'v1', 'pods')!, 'gitlab-runner').map((p) => p.metadata.name)).toEqual([])
    expect(sim.writes().map((w) => `${w.verb} ${w.resource} ${w.name}`)).toEqual(STUCK.map((n) => `patch pods ${n}`))
    expect(sim.bugs()).toEqual([])
  })
})
