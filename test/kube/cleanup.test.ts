import { describe, expect, it } from 'vitest'
import { start } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { runCliAsync } from '../helpers/async-cli.js'

describe('gkr cleanup on the leaked-secrets scenario', () => {
  it('lists the leaked runner secrets (exit 1), deletes exactly those with --yes, and leaves everything else', async () => {
    const sim = await start('quota-secrets-leaked')
    const secrets = RESOURCES.find((r) => r.resource === 'secrets')!
    sim.store.create(secrets, 'gitlab-runner', { metadata: { name: 'app-credentials' } })
    sim.store.create(secrets, 'gitlab-runner', { metadata: { name: 'runner-abcdefghi-project-1-concurrent-0-fresh123' } })
    try {
      const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
      const dry = await runCliAsync(['cleanup', '--json'], { env })
      expect(dry.code).toBe(1)
      const listed = JSON.parse(dry.stdout).result.results[0].leaks.map((l: { name: string }) => l.name)
      expect(listed).toHaveLength(10)
      expect(listed.every((n: string) => n.startsWith('runner-z36gywsv-project-7-concurrent-'))).toBe(true)
      expect(sim.writes()).toEqual([])
      const yes = await runCliAsync(['cleanup', '--yes'], { env })
      expect(yes.code).toBe(0)
      expect(yes.stdout.match(/^deleted /gm)).toHaveLength(10)
      expect(sim.store.list(secrets, 'gitlab-runner').map((s) => s.metadata.name)).toEqual(['app-credentials', 'runner-abcdefghi-project-1-concurrent-0-fresh123'])
      expect(sim.writes().map((w) => w.verb)).toEqual(Array(10).fill('delete'))
    } finally {
      await sim.stop()
    }
  })
})
