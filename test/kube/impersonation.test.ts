/**
 * --as / --as-group on the other cluster commands (issue 17): rbac --check and doctor ask their access
 * reviews with the groups as well; cleanup makes its lists and deletes as the impersonated identity
 * (it used to ignore --as and act as the kubeconfig's user).
 */
import { describe, expect, it } from 'vitest'
import { loadScenario, start } from '../../src/sim/index.js'
import type { Obj } from '../../src/sim/store.js'
import Rbac from '../../src/commands/rbac.js'
import Cleanup from '../../src/commands/cleanup.js'
import Doctor from '../../src/commands/doctor.js'
import { runCommand } from '../helpers/run-command.js'

function scenario(): ReturnType<typeof loadScenario> {
  const s = loadScenario('healthy')
  const rbac = (kind: string, name: string, body: Record<string, unknown>): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, namespace: 'gitlab-runner' }, ...body } as Obj)
  s.objects.push(
    rbac('Role', 'attach', { rules: [{ apiGroups: [''], resources: ['pods/attach'], verbs: ['get', 'create'] }] }),
    rbac('RoleBinding', 'attach', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'attach' }, subjects: [{ kind: 'Group', name: 'attachers' }] }),
  )
  return s
}

describe('impersonation on rbac --check, doctor and cleanup', () => {
  it('rbac --check --as alice --as-group attachers: the group\'s grant counts; without the group it is missing', async () => {
    const sim = await start(scenario())
    try {
      const env = { KUBECONFIG: sim.kubeconfig }
      const without = await runCommand(Rbac, ['-c', sim.runnerConfig, '--check', '--as', 'alice', '--json'], { env })
      const withGroup = await runCommand(Rbac, ['-c', sim.runnerConfig, '--check', '--as', 'alice', '--as-group', 'attachers', '--json'], { env })
      const attachVerbs = (out: string): unknown => (JSON.parse(out) as { result: { rows: Array<{ resource: string; verbs: Record<string, string> }> } }).result.rows.find((r) => r.resource === 'pods/attach')?.verbs.create
      expect(attachVerbs(without.stdout)).toBe('missing')
      expect(attachVerbs(withGroup.stdout)).toBe('granted')
      const reviews = sim.audit.filter((e) => e.path.endsWith('/subjectaccessreviews'))
      expect(reviews.length).toBeGreaterThan(0)
      const lone = await runCommand(Rbac, ['-c', sim.runnerConfig, '--check', '--as-group', 'attachers'], { env })
      expect(lone.code).toBe(2)
      expect(lone.stderr).toContain('--as-group attachers needs --as (or --as-runner)')
    } finally {
      await sim.stop()
    }
  })

  it('doctor --as-group without --as is a usage error, not a silent ignore', async () => {
    const sim = await start('healthy')
    try {
      const r = await runCommand(Doctor, ['-c', sim.runnerConfig, '--as-group', 'attachers'], { env: { KUBECONFIG: sim.kubeconfig } })
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('--as-group attachers needs --as (or --as-runner)')
    } finally {
      await sim.stop()
    }
  })

  it('cleanup --as lists as that identity: a user with no list permission gets exit 3 and "cannot list", and the requests are audited as it', async () => {
    const sim = await start('healthy')
    try {
      const r = await runCommand(Cleanup, ['-c', sim.runnerConfig, '--as', 'nobody'], { env: { KUBECONFIG: sim.kubeconfig } })
      expect(r.code).toBe(3)
      const lists = sim.audit.filter((e) => e.verb === 'list')
      expect(lists.length).toBeGreaterThan(0)
      expect(lists.every((e) => e.user === 'nobody' && e.code === 403)).toBe(true)
    } finally {
      await sim.stop()
    }
  })
})

describe('doctor --live --as-runner', () => {
  it('the probe pod and its log are requested as the runner\'s service account, not the kubeconfig user', async () => {
    const sim = await start('healthy')
    try {
      await runCommand(Doctor, ['-c', sim.runnerConfig, '--live', '--as-runner', '--only', 'cluster-probe-start', '--json'], { env: { KUBECONFIG: sim.kubeconfig } })
      const probe = sim.audit.filter((e) => e.resource === 'pods' && (e.method === 'POST' && !e.dryRun || e.subresource === 'log'))
      expect(probe.length).toBeGreaterThan(0)
      expect([...new Set(probe.map((e) => e.user))]).toEqual(['system:serviceaccount:gitlab-runner:gitlab-runner'])
    } finally {
      await sim.stop()
    }
  })
})
