import { describe, expect, it } from 'vitest'
import { start } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import Cleanup from '../../src/commands/cleanup.js'
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

  it('a role without list on secrets: a finding naming the verb, config maps and services still cleaned, exit 3 (not 70)', async () => {
    const sim = await start('quota-secrets-leaked')
    const old = new Date(Date.now() - 3 * 3600_000).toISOString()
    sim.store.create(def('services'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-svc', creationTimestamp: old }, spec: { ports: [{ port: 2375 }] } }, { keepTimestamp: true })
    sim.store.create(def('configmaps'), 'gitlab-runner', { metadata: { name: 'runner-z36gywsv-project-7-concurrent-0-cm', creationTimestamp: old } }, { keepTimestamp: true })
    // The runner's service account may delete secrets, but not list them.
    sim.store.delete(def('roles'), 'gitlab-runner', 'gitlab-runner')
    sim.store.create(def('roles'), 'gitlab-runner', { metadata: { name: 'gitlab-runner' }, rules: [
      { apiGroups: [''], resources: ['configmaps', 'services', 'pods'], verbs: ['list', 'delete'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['delete'] },
    ] })
    const secretsBefore = sim.store.list(def('secrets'), 'gitlab-runner').length
    try {
      const env = { KUBECONFIG: sim.kubeconfigFor('runner'), GKR_CONFIG: sim.runnerConfig }
      const yes = await runCommand(Cleanup, ['--yes'], { env })
      expect(yes.stderr).toBe('')
      expect(yes.stdout).toContain('gitlab-runner: cannot list secrets in namespace gitlab-runner: missing verb list on secrets')
      expect(yes.stdout).toContain('deleted ConfigMap/runner-z36gywsv-project-7-concurrent-0-cm')
      expect(yes.stdout).toContain('deleted Service/runner-z36gywsv-project-7-concurrent-0-svc')
      expect(yes.code).toBe(3)
      expect(sim.store.list(def('configmaps'), 'gitlab-runner').map((o) => o.metadata.name)).not.toContain('runner-z36gywsv-project-7-concurrent-0-cm')
      expect(sim.store.list(def('secrets'), 'gitlab-runner')).toHaveLength(secretsBefore)
      const json = await runCommand(Cleanup, ['--json'], { env })
      expect(json.code).toBe(3)
      expect(JSON.parse(json.stdout).result.results[0].unlisted).toEqual([{ kind: 'Secret', namespace: 'gitlab-runner', verb: 'list', resource: 'secrets', message: 'cannot list secrets in namespace gitlab-runner: missing verb list on secrets' }])
    } finally {
      await sim.stop()
    }
  })

  it('a role that may list but not delete: each refused delete names the missing verb, exit 1', async () => {
    const sim = await start('quota-secrets-leaked')
    sim.store.delete(def('roles'), 'gitlab-runner', 'gitlab-runner')
    sim.store.create(def('roles'), 'gitlab-runner', { metadata: { name: 'gitlab-runner' }, rules: [{ apiGroups: [''], resources: ['configmaps', 'services', 'secrets'], verbs: ['list'] }] })
    try {
      const r = await runCommand(Cleanup, ['--yes'], { env: { KUBECONFIG: sim.kubeconfigFor('runner'), GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/^FAILED {2}Secret\/runner-z36gywsv-project-7-/m)
      expect(r.stdout).toContain('cannot delete secrets in namespace gitlab-runner: missing verb delete on secrets')
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
