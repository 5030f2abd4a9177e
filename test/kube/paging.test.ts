/**
 * A big namespace: every list doctor makes is read page by page (limit/continue), so memory is bounded
 * by a page and the request count grows only by pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { resourceForKind } from '../../src/sim/resources.js'
import { resolveCluster } from '../../src/kube/connect.js'
import { gatherFacts } from '../../src/kube/gather.js'
import { loadConfig } from '../../src/config/load.js'
import { renderJob } from '../../src/executor/render.js'
import { requiredPermissions } from '../../src/executor/permissions.js'

const NS = 'gitlab-runner'
// doctor's page is 500 objects; a page of 20 shows the same paging with fewer objects to make.
const PAGE_SIZE = 20
const SECRETS = 2 * PAGE_SIZE + 7
const PODS = PAGE_SIZE + 3
let sim: Sim

beforeAll(async () => {
  sim = await start('healthy')
  const secret = resourceForKind('v1', 'Secret')!
  const pod = resourceForKind('v1', 'Pod')!
  for (let i = 0; i < SECRETS; i++) sim.store.create(secret, NS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `app-secret-${i}`, namespace: NS }, data: { k: 'dg==' } })
  for (let i = 0; i < PODS; i++) sim.store.create(pod, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `app-${i}`, namespace: NS, labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'alpine' }] } })
})
afterAll(() => sim.stop())

describe('gathering in a namespace bigger than a page', () => {
  it('reads every secret and pod, one page at a time, and says nothing is missing', async () => {
    const config = await loadConfig({ path: sim.runnerConfig })
    const runner = config.runners[0]!
    const t = (await resolveCluster({ kubeconfig: sim.kubeconfig }))!
    const before = sim.audit.length
    const { facts } = await gatherFacts(t, { runner, rendered: renderJob({ runner }), permissions: requiredPermissions(runner) }, { pageSize: PAGE_SIZE })
    expect(facts.secrets).toMatchObject({ ok: true })
    expect(facts.secrets!.ok && facts.secrets!.value.filter((s) => s.name.startsWith('app-secret-')).length).toBe(SECRETS)
    expect(facts.pods!.ok && facts.pods!.value.filter((p) => p.name.startsWith('app-')).length).toBe(PODS)
    const lists = sim.audit.slice(before).filter((e) => e.verb === 'list')
    const secretPages = lists.filter((e) => e.resource === 'secrets')
    expect(secretPages).toHaveLength(3)
    for (const e of secretPages) expect(e.requestURI).toContain(`limit=${PAGE_SIZE}`)
    expect(lists.filter((e) => e.resource === 'pods')).toHaveLength(2)
    // Every list asks for a bounded page, none for the whole collection at once.
    for (const e of lists) expect(e.requestURI, e.requestURI).toMatch(/[?&]limit=\d+/)
  })
})
