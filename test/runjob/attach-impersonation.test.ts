/**
 * Impersonation applies to every request of run-job, the exec/attach WebSocket upgrades included
 * (issue 17): --as, --as-group (one Impersonate-Group line per group, on typed calls and streams
 * alike) and --as-runner; the simulator enforces RBAC on pods/exec and pods/attach for the
 * impersonated identity and the impersonate verb for the caller.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import type { Obj } from '../../src/sim/store.js'
import { runJobInput, type RunJobFlags } from '../../src/runjob/command-input.js'
import { runJob } from '../../src/runjob/run.js'
import { plainLog } from '../../src/runjob/script.js'
import { GkrError } from '../../src/util/errors.js'
import { runCli } from '../helpers/cli.js'
import { scaledClock } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-impersonation-'))
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, ['hello:', '  image: alpine:3.20', '  script:', '    - echo hello from the pod'].join('\n') + '\n')

async function live(sim: Sim, flags: Partial<RunJobFlags>): Promise<{ exitCode?: number; out: string; error?: GkrError }> {
  let out = ''
  try {
    const input = await runJobInput({ job: 'hello', 'ci-file': ciFile, config: sim.runnerConfig, kubeconfig: sim.kubeconfig, live: true, output: 'yaml', ...flags }, { retry: { sleep: async () => undefined } })
    const r = await runJob({ ...input, clock: scaledClock(0.01), signal: new AbortController().signal, write: (t) => void (out += t) })
    return { exitCode: r.exitCode, out: plainLog(out) }
  } catch (err) {
    if (err instanceof GkrError) return { error: err, out: plainLog(out) }
    throw err
  }
}

/** A Role with everything run-job needs but pods/attach; attach only for members of the group "attachers". */
function groupScenario(): ReturnType<typeof loadScenario> {
  const s = loadScenario('healthy')
  const rbac = (kind: string, name: string, body: Record<string, unknown>): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, namespace: 'gitlab-runner' }, ...body } as Obj)
  s.objects.push(
    rbac('Role', 'jobs', { rules: [{ apiGroups: [''], resources: ['pods', 'secrets', 'configmaps', 'services', 'events'], verbs: ['*'] }, { apiGroups: [''], resources: ['pods/exec', 'pods/log'], verbs: ['get', 'create'] }] }),
    rbac('RoleBinding', 'jobs', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'jobs' }, subjects: [{ kind: 'User', name: 'alice' }] }),
    rbac('Role', 'attach', { rules: [{ apiGroups: [''], resources: ['pods/attach'], verbs: ['get', 'create'] }] }),
    rbac('RoleBinding', 'attach', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'attach' }, subjects: [{ kind: 'Group', name: 'attachers' }] }),
  )
  return s
}

describe('run-job impersonates on every request, streams included', () => {
  it('--as alice (no attach) fails at the attach upgrade, as alice, with the Role rule to add; with --as-group attachers it runs', async () => {
    const sim = await start(groupScenario())
    try {
      const denied = await live(sim, { as: 'alice' })
      expect(denied.exitCode).toBe(1)
      expect(denied.out).toMatch(/ERROR: Job failed \(system failure\): the API server refused pods\/attach on pod gitlab-runner\/\S+ \(403 Forbidden\): alice may not create pods\/attach in namespace gitlab-runner\n/)
      expect(denied.out).toContain('  See: rbac-forbidden\n')
      expect(denied.out).toContain('Add this rule to the Role bound to alice in gitlab-runner:\n- apiGroups: [""]\n  resources: ["pods/attach"]\n  verbs: ["create", "get"]')
      const upgrades = sim.audit.filter((e) => e.subresource === 'attach')
      expect(upgrades.map((e) => [e.user, e.code])).toEqual([['alice', 403]])
      // Pre-build went through pods/exec as alice too.
      expect(sim.audit.filter((e) => e.subresource === 'exec').every((e) => e.user === 'alice' && e.code === 101)).toBe(true)

      const allowed = await live(sim, { as: 'alice', 'as-group': ['unrelated', 'attachers'] })
      expect(allowed.error).toBeUndefined()
      expect(allowed.out).toContain('hello from the pod')
      expect(allowed.exitCode).toBe(0)
      const writes = sim.audit.filter((e) => e.method !== 'GET' && !e.path.startsWith('/api/v4/'))
      expect(writes.length).toBeGreaterThan(0)
      expect(writes.filter((e) => e.user !== 'alice' && e.user !== 'kubernetes-admin')).toEqual([])
      expect(sim.audit.filter((e) => e.subresource === 'attach').at(-1)).toMatchObject({ user: 'alice', code: 101 })
    } finally {
      await sim.stop()
    }
  })

  it('--as-group without --as is a usage error (the API server impersonates groups only with a user)', async () => {
    const sim = await start('healthy')
    try {
      const r = await live(sim, { 'as-group': ['attachers'] })
      expect(r.error?.code).toBe('as-group-without-as')
      expect(r.error?.exit).toBe(2)
    } finally {
      await sim.stop()
    }
  })

  it('a caller that may not impersonate the group is refused (impersonate on groups), before anything is created', async () => {
    const s = groupScenario()
    s.objects.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'impersonate-users' }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }] } as Obj,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'runner-impersonates' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-users' }, subjects: [{ kind: 'ServiceAccount', name: 'gitlab-runner', namespace: 'gitlab-runner' }] } as Obj,
    )
    const sim = await start(s)
    try {
      const r = await live(sim, { kubeconfig: sim.kubeconfigFor('runner'), as: 'alice', 'as-group': ['attachers'] })
      expect(r.out).toContain('groups "attachers" is forbidden: User "system:serviceaccount:gitlab-runner:gitlab-runner" cannot impersonate resource "groups" in API group "" at the cluster scope')
      expect(r.exitCode).toBe(1)
      expect(sim.writes().filter((e) => e.resource === 'pods' && !e.subresource && e.method === 'POST' && (e.code ?? 0) < 300)).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr sim run --scenario rbac-missing-attach -- run-job --live --as-runner', () => {
  it('fails at pods/attach as the runner\'s service account: exit 1, the catalog entry, the rule, nothing left (no pod folder either)', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'gkr-impersonation-tmp-'))
    const r = runCli(['sim', 'run', '--scenario', 'rbac-missing-attach', '--', 'run-job', 'hello', '--ci-file', ciFile, '--live', '--as-runner'], { cwd: project, env: { TMPDIR: tmp } })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/ERROR: Job failed \(system failure\): the API server refused pods\/attach on pod gitlab-runner\/\S+ \(403 Forbidden\): system:serviceaccount:gitlab-runner:gitlab-runner may not create pods\/attach in namespace gitlab-runner/)
    expect(r.stdout).toContain('See: rbac-forbidden')
    expect(r.stdout).toContain('resources: ["pods/attach"]')
    expect(r.stdout).not.toContain('Job succeeded')
    expect(r.stderr).toContain('Cleanup (1 deleted, 0 left)')
    expect(r.stderr).not.toMatch(/\n\s+at /)
    // The pod ran (Pre-build copied the project into it): its simulated folder went with it, and the
    // simulator's own folder when it stopped.
    expect(r.stderr).toContain('Pre-build (1 files)')
    expect(readdirSync(tmp)).toEqual([])
  })
})
