import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { kubectl, hasKubectl } from '../helpers/async-cli.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'
import Rbac from '../../src/commands/rbac.js'
import Render from '../../src/commands/render.js'


describe('gkr rbac --check against the simulator', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('rbac-missing-attach')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('prints the matrix and the rules to add, exit 1 when a required permission is missing', async () => {
    const r = await runCommand(Rbac, ['--check', '--as-runner'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Permissions of system:serviceaccount:gitlab-runner:gitlab-runner in namespace gitlab-runner:')
    expect(r.stdout).toMatch(/^pods\/attach\s+MISSING\s+-\s+-\s+MISSING\s+-\s+MISSING\s+MISSING\s*$/m)
    expect(r.stdout).toContain('- apiGroups: [""]\n  resources: ["pods/attach"]\n  verbs: ["create", "delete", "get", "patch"]')
    expect(sim.writes()).toEqual([])
  })

  it('exit 0 for an identity that has everything (the admin)', async () => {
    const r = await runCommand(Rbac, ['--check', '--json'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).result.missing).toEqual([])
  })

  it('the Role gkr prints, applied to the cluster, makes the check pass', async () => {
    const role = await runCommand(Rbac, ['--with-binding', '--name', 'gkr-runner'], { env: { GKR_CONFIG: sim.runnerConfig } })
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-role-'))
    writeFileSync(path.join(dir, 'role.yaml'), role.stdout)
    if (hasKubectl) {
      const applied = await kubectl(sim.kubeconfig, ['create', '-f', path.join(dir, 'role.yaml')])
      expect(applied.stdout).toContain('role.rbac.authorization.k8s.io/gkr-runner created')
      const r = await runCommand(Rbac, ['--check', '--as-runner'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('Every permission the runner needs is granted.')
    }
  })
})

describe.runIf(hasKubectl)('kubectl accepts the rendered objects', () => {
  it('kubectl create --dry-run=client and --dry-run=server take the rendered pod and secret, and every golden case', async () => {
    const sim = await start('healthy')
    try {
      const rendered = await runCommand(Render, ['--var', 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"dTpw"}}}'], { env: { GKR_CONFIG: sim.runnerConfig } })
      expect(rendered.code).toBe(0)
      // Printed secret values are redacted; give the secret a valid value for the API.
      const yaml = rendered.stdout.replace('"[REDACTED]"', 'e30=')
      for (const mode of ['client', 'server']) {
        const r = await kubectl(sim.kubeconfig, ['create', `--dry-run=${mode}`, '-f', '-', '-o', 'name'], yaml)
        expect(r.stderr, mode).toBe('')
        expect(r.stdout.trim().split('\n'), mode).toEqual([expect.stringMatching(/^secret\/runner-simulated-project-1-concurrent-0-/), expect.stringMatching(/^pod\/runner-simulated-project-1-concurrent-0-/)])
      }
      // The golden renders (realistic configs: defaults, hardened, dind with services) in one call.
      const cases = readdirSync(path.join(ROOT, 'test', 'executor', 'cases'))
      const all = cases.map((c) => readFileSync(path.join(ROOT, 'test', 'executor', 'cases', c, 'expected.yaml'), 'utf8').replaceAll('"[REDACTED]"', 'e30=')).join('---\n')
      const r = await kubectl(sim.kubeconfig, ['create', '--dry-run=client', '-f', '-', '-o', 'name'], all)
      expect(r.stderr).toBe('')
      expect(r.stdout.trim().split('\n').filter((l) => l.startsWith('pod/'))).toHaveLength(cases.length)
    } finally {
      await sim.stop()
    }
  })
})
