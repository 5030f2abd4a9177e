import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ALL_CHECKS } from '../../src/checks/registry.js'
import { isCatalogId } from '../../src/catalog/ids.js'
import { ROOT } from '../helpers/cli.js'

function testSources(): string {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (f.endsWith('.test.ts') && !p.includes(`${path.sep}meta${path.sep}`)) out.push(readFileSync(p, 'utf8'))
    }
  }
  walk(path.join(ROOT, 'test'))
  return out.join('\n')
}

describe('the check registry', () => {
  const sources = testSources()

  it('registers every check once, with a unique kebab-case id and an area prefix', () => {
    const ids = ALL_CHECKS.map((c) => c.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const c of ALL_CHECKS) expect(c.id).toMatch(new RegExp(`^${c.area}-|^[a-z]+-`))
  })

  it.each(ALL_CHECKS.map((c) => [c.id, c] as const))('%s has a title, a description, catalog links that exist, and a test', (id, c) => {
    expect(c.title).toMatch(/\S/)
    expect(c.description.length).toBeGreaterThan(20)
    expect(c.catalog.length, `${id} has no catalog entry`).toBeGreaterThan(0)
    for (const cat of c.catalog) expect(isCatalogId(cat), `${id}: unknown catalog id ${cat}`).toBe(true)
    const hasFixtures = existsSync(path.join(ROOT, 'test', 'fixtures', 'config', id))
    expect(hasFixtures || sources.includes(`'${id}'`) || sources.includes(`"${id}"`), `${id} has neither fixtures nor a test naming it`).toBe(true)
  })
})
