import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import Cleanup from '../../src/commands/cleanup.js'
import Doctor from '../../src/commands/doctor.js'
import Explain from '../../src/commands/explain.js'
import RunJob from '../../src/commands/run-job.js'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { findResource } from '../../src/sim/resources.js'
import { runCommand } from '../helpers/run-command.js'

/**
 * The lifecycle scenarios through the CLI, as a user runs them: doctor and cleanup on
 * pods-stuck-terminating (pods a finalizer keeps Terminating); run-job --live and explain on
 * crashloop-service (a service container restarted into CrashLoopBackOff).
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

describe('crashloop-service', () => {
  it('run-job --live: the service that exits at start is restarted into CrashLoopBackOff, the job fails naming it and the catalog entry; explain names the same entry', async () => {
    sim = await start(loadScenario('crashloop-service'))
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-crashloop-'))
    const ci = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ci, [
      'test:', '  image: alpine:3.20', '  services:',
      '    - name: postgres:16', '      alias: db',
      '      entrypoint: ["sh", "-c", "echo \'Error: Database is uninitialized and superuser password is not specified.\' >&2; exit 1"]',
      '  script:', '    - echo waiting for the database', '    - sleep 30',
    ].join('\n') + '\n')
    const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
    const r = await runCommand(RunJob, ['test', '--live', '--ci-file', ci, '--json'], { env })
    const out = JSON.parse(r.stdout) as { exitCode: number; result: { live: { success: boolean; failure?: { code: string; message: string; ref?: string }; cleanup: { left: unknown[] } } } }
    expect([r.code, out.exitCode, out.result.live.success]).toEqual([1, 1, false])
    const failure = out.result.live.failure
    // The pod started (the build container is ready); while the script runs, the service keeps crashing.
    expect(failure?.message).toMatch(/^ERROR: Job failed \(system failure\): container "(svc-0|db)" is in CrashLoopBackOff: back-off (?:\d+m)?\d+s restarting failed container=\1 pod=runner-[a-z0-9-]+_gitlab-runner\([0-9a-f-]+\)$/)
    expect(failure?.ref).toBe('crash-loop-back-off')
    expect(out.result.live.cleanup.left).toEqual([])
    // Everything run-job created is gone again.
    await expect.poll(() => sim!.store.list(findResource('', 'v1', 'pods')!, 'gitlab-runner').length, { timeout: 5000 }).toBe(0)
    const explained = await runCommand(Explain, [failure!.message, '--json'], {})
    const e = JSON.parse(explained.stdout) as { result: { matches?: Array<{ id: string }> } & Record<string, unknown> }
    expect(JSON.stringify(e.result)).toContain('"id":"crash-loop-back-off"')
    expect(explained.code).toBe(0)
    expect(sim.bugs()).toEqual([])
  })
})
