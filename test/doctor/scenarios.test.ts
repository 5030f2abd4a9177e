import { describe, expect, it } from 'vitest'
import { builtinScenarios, loadScenario, start } from '../../src/sim/index.js'
import { runCommand } from '../helpers/run-command.js'
import Doctor from '../../src/commands/doctor.js'
import { RESOURCES } from '../../src/sim/resources.js'

interface Result {
  id: string
  status: string
  catalog: string[]
  findings: Array<{ catalog: string[]; severity: string }>
}

/**
 * Checks that read the cluster's configuration (not admission) and must also see a scenario's
 * problem before any pod is submitted: the policy object, the LimitRange, the endpoints.
 */
const ALSO_FAILS: Record<string, string[]> = {
  'readonly-rootfs-policy': ['cluster-read-only-rootfs-policy'],
  'limitrange-conflict': ['cluster-limit-range'],
}

/**
 * Every built-in scenario end to end: the doctor command (in-process, as bin/run.js would run it) runs doctor (as the runner's service account)
 * against the simulator; the scenario's expected check must not pass and must carry its catalog id,
 * nothing may fail on healthy, and doctor must not have changed anything in the cluster.
 */
describe.each(builtinScenarios().map((s) => [s.name] as const))('gkr doctor on scenario %s', (name) => {
  it('reports the scenario\'s failure with its catalog entry, and writes nothing', async () => {
    const scenario = loadScenario(name)
    const sim = await start(scenario)
    try {
      const live = Boolean(scenario.expect?.live)
      const r = await runCommand(Doctor, ['--as-runner', '--json', ...(live ? ['--live'] : [])], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      const env = JSON.parse(r.stdout) as { exitCode: number; result: { mode: string; runners: Array<{ results: Result[] }> } }
      expect(env.result.mode).toBe(live ? 'live' : 'cluster')
      const results = env.result.runners.flatMap((x) => x.results)
      if (!scenario.expect?.check) {
        expect(results.filter((x) => x.status === 'fail' || x.status === 'error').map((x) => x.id)).toEqual([])
        expect(r.code).toBe(0)
      } else {
        const hit = results.find((x) => x.id === scenario.expect!.check)
        expect(hit, `check ${scenario.expect.check}`).toBeDefined()
        expect(['fail', 'warn', 'error']).toContain(hit!.status)
        const catalogs = [...hit!.catalog, ...hit!.findings.flatMap((f) => f.catalog)]
        expect(catalogs).toContain(scenario.expect.catalog)
        expect(r.code).toBe(hit!.status === 'fail' ? 1 : hit!.status === 'error' ? 3 : env.exitCode)
      }
      for (const id of ALSO_FAILS[name] ?? []) expect(results.find((x) => x.id === id)?.status, id).toBe('fail')
      if (live) {
        // --live creates exactly one probe pod and deletes it again.
        expect(sim.writes().map((w) => `${w.verb} ${w.resource}`)).toEqual(['create pods', 'delete pods'])
        expect(sim.store.list(RESOURCES.find((x) => x.resource === 'pods')!, 'gitlab-runner')).toEqual([])
      } else expect(sim.writes(), 'doctor without --live writes nothing').toEqual([])
      // Dry-runs are answered everywhere but on the overloaded server, which drops every request it gets
      // (over HTTP/2 the fan-out's requests may reach it on the connection it is dropping: code -1).
      expect(sim.audit.some((e) => e.dryRun && e.code > 0)).toBe(name !== 'apiserver-overloaded')
      // One report, one answer: with --live the measured MTU is the only --mtu value any finding suggests
      // (config-dind-mtu's offline guess of 1450 used to sit next to the probe's measured 1200).
      if (name === 'small-mtu') expect([...new Set([...JSON.stringify(results.flatMap((x) => x.findings)).matchAll(/--mtu=(\d+)/g)].map((m) => m[1]))]).toEqual(['1200'])
    } finally {
      await sim.stop()
    }
  })
})
