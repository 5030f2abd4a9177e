import { describe, expect, it } from 'vitest'
import { start } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import Cleanup from '../../src/commands/cleanup.js'
import Rbac from '../../src/commands/rbac.js'
import { runCommand } from '../helpers/run-command.js'

const def = (resource: string) => RESOURCES.find((r) => r.resource === resource)!

describe('gkr cleanup on the leaked-secrets scenario', () => {
  it('lists the leaked runner objects (exit 1), deletes exactly those with --yes, and leaves everything else', async () => {
    const sim = await start('quota-secrets-leaked')
    const secrets = def('secrets')
    const old = new Date(Date.now() - 3 * 3600_000).toISOString()
    sim.store.create(secrets, 'gitlab-runner', { metadata: { name: 'app-credentials' } })
    sim.store.create(secrets, 'gitlab-runner', { metadata: { name: 'runner-abcdefghi-project-1-concurrent-0-fresh123' } })
    // A leaked service and config map of the runner; an old runner-named service with an owner is not cleanup's to delete.
    sim.store.create(def('services'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-svc', creationTimestamp: old }, spec: { ports: [{ port: 2375 }] } }, { keepTimestamp: true })
    sim.store.create(def('configmaps'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-cm', creationTimestamp: old } }, { keepTimestamp: true })
    sim.store.create(def('services'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-1-owned', creationTimestamp: old, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'runner-z36gywsv-project-7-concurrent-1-abc', uid: 'u-1' }] }, spec: { ports: [{ port: 2375 }] } }, { keepTimestamp: true })
    try {
      const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
      const dry = await runCommand(Cleanup, ['--json'], { env })
      expect(dry.code).toBe(1)
      const leaks = JSON.parse(dry.stdout).result.results[0].leaks as Array<{ kind: string; name: string }>
      expect(leaks.filter((l) => l.kind === 'Secret')).toHaveLength(10)
      expect(leaks.every((l) => l.name.startsWith('runner-z36gywsv-project-7-concurrent-'))).toBe(true)
      expect(leaks.filter((l) => l.kind !== 'Secret').map((l) => `${l.kind}/${l.name}`)).toEqual(['ConfigMap/runner-z36gywsv-project-7-concurrent-0-cm', 'Service/runner-z36gywsv-project-7-concurrent-0-svc'])
      expect(sim.writes()).toEqual([])
      // --older-than larger than every leak's age: nothing is listed.
      const older = await runCommand(Cleanup, ['--json', '--older-than', '1000h'], { env })
      expect(older.code).toBe(0)
      expect(JSON.parse(older.stdout).result.results[0].leaks).toEqual([])
      const yes = await runCommand(Cleanup, ['--yes'], { env })
      expect(yes.code).toBe(0)
      expect(yes.stdout.match(/^deleted /gm)).toHaveLength(12)
      expect(sim.store.list(secrets, 'gitlab-runner').map((s) => s.metadata.name)).toEqual(['app-credentials', 'runner-abcdefghi-project-1-concurrent-0-fresh123'])
      // The owned service is the garbage collector's business (its owner pod), never cleanup's.
      expect(yes.stdout).not.toContain('concurrent-1-owned')
      expect(sim.writes().map((w) => w.verb)).toEqual(Array(12).fill('delete'))
    } finally {
      await sim.stop()
    }
  })

  it('a role without list on secrets: dry-run names the verb and still lists the other kinds (exit 3); --yes deletes nothing', async () => {
    const sim = await start('quota-secrets-leaked')
    const old = new Date(Date.now() - 3 * 3600_000).toISOString()
    sim.store.create(def('services'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-svc', creationTimestamp: old }, spec: { ports: [{ port: 2375 }] } }, { keepTimestamp: true })
    sim.store.create(def('configmaps'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-cm', creationTimestamp: old } }, { keepTimestamp: true })
    // The runner's service account may delete secrets, but not list them.
    sim.store.delete(def('roles'), 'gitlab-runner', 'gitlab-runner')
    sim.store.create(def('roles'), 'gitlab-runner', { metadata: { name: 'gitlab-runner' }, rules: [
      { apiGroups: [''], resources: ['configmaps', 'services', 'pods'], verbs: ['list', 'delete', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['delete'] },
    ] })
    try {
      const env = { KUBECONFIG: sim.kubeconfigFor('runner'), GKR_CONFIG: sim.runnerConfig }
      const dry = await runCommand(Cleanup, [], { env })
      expect(dry.stderr).toBe('')
      expect(dry.stdout).toContain('gitlab-runner: cannot list secrets in namespace gitlab-runner: missing verb list on secrets')
      expect(dry.stdout).toContain('leaked  ConfigMap/runner-z36gywsv-project-7-concurrent-0-cm')
      expect(dry.code).toBe(1)
      const json = await runCommand(Cleanup, ['--json', '--older-than', '1000h'], { env })
      expect(json.code).toBe(3)
      expect(JSON.parse(json.stdout).result.results[0].unlisted).toEqual([{ kind: 'Secret', namespace: 'gitlab-runner', verb: 'list', resource: 'secrets', message: 'cannot list secrets in namespace gitlab-runner: missing verb list on secrets' }])
      const yes = await runCommand(Cleanup, ['--yes'], { env })
      expect(yes.code).toBe(3)
      expect(yes.stderr).toMatch(/^Error: cleanup --yes deleted nothing: runner may not list secrets in namespace gitlab-runner\n/)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('a role that may list but not delete: --yes names every missing verb and deletes nothing (exit 3)', async () => {
    const sim = await start('quota-secrets-leaked')
    sim.store.delete(def('roles'), 'gitlab-runner', 'gitlab-runner')
    sim.store.create(def('roles'), 'gitlab-runner', { metadata: { name: 'gitlab-runner' }, rules: [{ apiGroups: [''], resources: ['configmaps', 'services', 'secrets', 'pods'], verbs: ['list'] }] })
    try {
      const r = await runCommand(Cleanup, ['--yes', '--json'], { env: { KUBECONFIG: sim.kubeconfigFor('runner'), GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(3)
      const error = JSON.parse(r.stdout).error
      expect(error.code).toBe('cleanup-forbidden')
      expect(error.message).toBe('cleanup --yes deleted nothing: runner may not delete secrets in namespace gitlab-runner, delete configmaps in namespace gitlab-runner, delete services in namespace gitlab-runner, patch pods in namespace gitlab-runner, delete pods in namespace gitlab-runner')
      expect(error.suggestions[0]).toContain('gkr rbac --for cleanup')
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('the Role `gkr rbac --for cleanup` prints is exactly enough: with it --yes removes every kind; with any one verb less it deletes nothing', async () => {
    const sim = await start('pods-stuck-terminating')
    const old = new Date(Date.now() - 3 * 3600_000).toISOString()
    const ns = 'gitlab-runner'
    const leaked = { metadata: { creationTimestamp: old } }
    sim.store.create(def('secrets'), ns, { ...leaked, metadata: { ...leaked.metadata, name: 'runner-z36gywsv-project-7-concurrent-0-abcde' }, type: 'kubernetes.io/dockerconfigjson', data: {} }, { keepTimestamp: true })
    sim.store.create(def('configmaps'), ns, { metadata: { ...leaked.metadata, name: 'runner-z36gywsv-project-7-concurrent-0-cm' } }, { keepTimestamp: true })
    sim.store.create(def('services'), ns, { metadata: { ...leaked.metadata, name: 'runner-z36gywsv-project-7-concurrent-0-svc' }, spec: { ports: [{ port: 2375 }] } }, { keepTimestamp: true })
    const env = { KUBECONFIG: sim.kubeconfigFor('runner'), GKR_CONFIG: sim.runnerConfig }
    const setRole = (rules: unknown[]): void => {
      sim.store.delete(def('roles'), ns, 'gitlab-runner')
      sim.store.create(def('roles'), ns, { metadata: { name: 'gitlab-runner' }, rules })
    }
    try {
      const printed = await runCommand(Rbac, ['--for', 'cleanup', '--json'], { env })
      expect(printed.code).toBe(0)
      const role = JSON.parse(printed.stdout).result.objects[0] as { kind: string; metadata: { name: string }; rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }
      expect([role.kind, role.metadata.name]).toEqual(['Role', 'gkr-cleanup'])
      expect(role.rules.map((r) => `${r.resources.join(',')}: ${r.verbs.join(',')}`)).toEqual(['secrets: list,delete', 'configmaps: list,delete', 'services: list,delete', 'pods: list,patch,delete'])
      // One verb less, each in turn: a clear error naming it, and not a single write.
      for (const [i, rule] of role.rules.entries()) {
        for (const verb of rule.verbs) {
          setRole(role.rules.map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r)))
          const r = await runCommand(Cleanup, ['--yes'], { env })
          expect([r.code, r.stderr.split('\n')[0]]).toEqual([3, `Error: cleanup --yes deleted nothing: runner may not ${verb} ${rule.resources[0]} in namespace ${ns}`])
          expect(r.stdout).toBe('')
        }
      }
      expect(sim.writes()).toEqual([])
      setRole(role.rules)
      // rbac --check asks for the same table.
      const check = await runCommand(Rbac, ['--for', 'cleanup', '--check'], { env })
      expect([check.code, check.stdout]).toEqual([0, expect.stringContaining('Every permission gkr cleanup needs is granted.')])
      const both = await runCommand(Rbac, ['--for', 'cleanup', '--ci-file', 'none.yml'], { env })
      expect([both.code, both.stderr.split('\n')[0]]).toEqual([2, 'Error: --ci-file: --ci-file adds what jobs need, and --for cleanup prints what gkr cleanup needs: use one or the other'])
      const yes = await runCommand(Cleanup, ['--yes'], { env })
      expect([yes.code, yes.stderr]).toEqual([0, ''])
      expect(yes.stdout.match(/^deleted /gm)).toHaveLength(5)
      expect(sim.writes().map((w) => `${w.verb} ${w.resource}`).sort()).toEqual(['delete configmaps', 'delete secrets', 'delete services', 'patch pods', 'patch pods'])
    } finally {
      await sim.stop()
    }
  })

  it('bad --older-than: exit 2 naming the flag', async () => {
    const r = await runCommand(Cleanup, ['--older-than', 'soon'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^Error: --older-than: --older-than "soon" is not a duration such as 30m or 24h/)
  })
})
