/**
 * `gkr rbac --with-binding | kubectl apply -f -` (issue 17): the printed manifest, in both formats, is
 * accepted by unmodified kubectl against the simulator, and what it creates grants the verbs gkr's
 * own check asks for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Rbac from '../../src/commands/rbac.js'
import { start, type Sim } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { kubectl } from '../helpers/async-cli.js'
import { runCommand } from '../helpers/run-command.js'

let sim: Sim
beforeAll(async () => {
  sim = await start('rbac-missing-attach')
})
afterAll(() => sim.stop())

const rbacDef = (resource: string) => RESOURCES.find((r) => r.resource === resource && r.group === 'rbac.authorization.k8s.io')!

describe('gkr rbac piped into kubectl apply', () => {
  for (const format of ['yaml', 'json']) {
    it(`--format ${format} --with-binding: kubectl applies it, and the runner's service account then passes rbac --check`, async () => {
      const env = { GKR_CONFIG: sim.runnerConfig }
      const out = await runCommand(Rbac, ['--format', format, '--with-binding', '--name', `gkr-${format}`], { env })
      expect(out.code, out.stderr).toBe(0)
      // kubectl validates a v1 List (the JSON form) against /openapi/v2, which the simulator serves.
      const applied = await kubectl(sim.kubeconfig, ['apply', '-f', '-'], out.stdout)
      expect(applied.code, applied.stderr).toBe(0)
      expect(applied.stdout).toMatch(new RegExp(`role.rbac.authorization.k8s.io/gkr-${format} (created|configured)`))
      expect(sim.store.tryGet(rbacDef('roles'), 'gitlab-runner', `gkr-${format}`)).toBeTruthy()
      const check = await runCommand(Rbac, ['--check', '--as-runner'], { env: { ...env, KUBECONFIG: sim.kubeconfig } })
      expect(check.code, check.stdout + check.stderr).toBe(0)
    })
  }
})
