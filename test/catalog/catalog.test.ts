import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CATALOG, getEntry, suggestIds } from '../../src/catalog/index.js'
import { ALL_IDS, DOCUMENTED_IDS, OWN_IDS, TROUBLESHOOTING_PAGE } from '../../src/catalog/ids.js'
import { entriesMatchingLine, explainText, matchMessage, normaliseLine } from '../../src/catalog/match.js'
import { renderCatalogDocs } from '../../src/catalog/render.js'
import { findCheck } from '../../src/checks/registry.js'
import { relatedChecks } from '../../src/catalog/links.js'
import { anchorsOf, quotedLines, type QuotedLine } from './quoted.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const SEEDS = path.join(ROOT, '..', 'shared', 'reference', 'seeds')

describe('catalog data', () => {
  it('has exactly one entry per id, in id order', () => {
    expect(CATALOG.map((e) => e.id)).toEqual([...ALL_IDS])
    expect(new Set(CATALOG.map((e) => e.id)).size).toBe(CATALOG.length)
  })

  it('links documented entries to the page anchor and own entries to a public page (an absolute https URL)', () => {
    for (const id of DOCUMENTED_IDS) expect(getEntry(id)!.ref).toBe(`${TROUBLESHOOTING_PAGE}#${id}`)
    for (const id of OWN_IDS) expect(getEntry(id)!.ref).toMatch(/^https:\/\/(docs\.gitlab\.com|kubernetes\.io)\/\S+$/)
    for (const e of CATALOG) expect(new URL(e.ref).protocol, e.id).toBe('https:')
  })

  it('covers every ## section of the troubleshooting page (anchors from the Japanese page)', () => {
    let ja: string
    try {
      ja = readFileSync(path.join(SEEDS, '001_4dfbc17e778909f6.txt'), 'utf8')
    } catch {
      return // reference material not present outside the workspace
    }
    const anchors = [...ja.matchAll(/^## .*\{#([a-z0-9_-]+)\}\s*$/gm)].map((m) => m[1])
    expect(anchors).toEqual([...DOCUMENTED_IDS])
  })

  it('gives every entry symptoms, examples, a fix, causes and a Japanese text', () => {
    for (const e of CATALOG) {
      expect(e.symptoms.length, e.id).toBeGreaterThan(0)
      expect(e.examples.length, e.id).toBeGreaterThan(0)
      expect(e.fix.steps.length, e.id).toBeGreaterThan(0)
      expect(e.causes.length, e.id).toBeGreaterThan(0)
      expect(e.ja.title, e.id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/)
      expect(e.ja.explanation, e.id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/)
      expect(e.ja.fix.length, e.id).toBeGreaterThan(0)
      for (const s of e.symptoms) expect(s.needle, e.id).toBe(s.needle.toLowerCase())
    }
  })

  it('maps every example line to its own entry, strictly ahead of any other entry', () => {
    for (const e of CATALOG) {
      for (const line of e.examples) {
        expect(matchMessage(line)?.id, line).toBe(e.id)
        const all = entriesMatchingLine(line)
        expect(all[0]?.id, line).toBe(e.id)
        if (all[1]) expect(all[1].weight, `${line} also matches ${all[1].id} with the same weight`).toBeLessThan(all[0]!.weight)
      }
    }
  })

  describe('every example line quoted on the troubleshooting page', () => {
    const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'troubleshooting-quoted.json'), 'utf8')) as QuotedLine[]

    it('the committed list is what seed 000 quotes (headings, plaintext blocks, code-span bullets)', () => {
      let page: string, ja: string
      try {
        page = readFileSync(path.join(SEEDS, '000_30685b97f90afa70.txt'), 'utf8')
        ja = readFileSync(path.join(SEEDS, '001_4dfbc17e778909f6.txt'), 'utf8')
      } catch {
        return // reference material not present outside the workspace; the fixture below still runs
      }
      expect(quotedLines(page, anchorsOf(ja))).toEqual(fixture)
    })

    it.each(fixture.map((q) => [q.kind, q.id, q.line] as const))('%s of %s maps to its own entry and no other: %s', async (_kind, id, line) => {
      const ms = await explainText(line)
      expect(ms.map((m) => m.id)).toEqual([id])
      const all = entriesMatchingLine(line)
      expect(all[0]?.id).toBe(id)
      if (all[1]) expect(all[1].weight, `${line} also matches ${all[1].id} with the same weight`).toBeLessThan(all[0]!.weight)
    })

    it('quotes lines from most sections, and every quoted section has its entry', () => {
      expect(fixture.length).toBeGreaterThanOrEqual(30)
      for (const q of fixture) expect(DOCUMENTED_IDS as readonly string[]).toContain(q.id)
    })
  })

  it('has needles that occur in every line their pattern accepts (examples and quoted lines)', () => {
    const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'troubleshooting-quoted.json'), 'utf8')) as QuotedLine[]
    const lines = [...CATALOG.flatMap((e) => e.examples), ...fixture.map((q) => q.line)]
    for (const raw of lines) {
      const line = normaliseLine(raw)
      for (const e of CATALOG) {
        for (const s of e.symptoms) {
          if (s.pattern.test(line)) expect(line.toLowerCase(), `${e.id}: needle "${s.needle}" missing from a line ${s.pattern} matches`).toContain(s.needle)
        }
      }
    }
  })

  it('names only doctor checks that exist', () => {
    for (const e of CATALOG) for (const c of e.checks) expect(findCheck(c), `${e.id} → ${c}`).toBeDefined()
  })

  it('links entries to the doctor checks that point at them (derived from the check metadata)', () => {
    expect(relatedChecks(getEntry('quota-exceeded')!)).toEqual(expect.arrayContaining(['cluster-quota', 'cluster-leaked-resources', 'cluster-dry-run']))
    expect(relatedChecks(getEntry('rbac-forbidden')!)).toContain('cluster-permissions')
    for (const e of CATALOG) for (const c of relatedChecks(e)) expect(findCheck(c)!.catalog.includes(e.id) || e.checks.includes(c), `${e.id} → ${c}`).toBe(true)
  })

  it('suggests near ids for typos', () => {
    expect(suggestIds('quota-exeeded')[0]).toBe('quota-exceeded')
    expect(suggestIds('oom')).toContain('oom-killed')
  })

  it('keeps docs/catalog.md in step with the data', () => {
    const committed = readFileSync(path.join(ROOT, 'docs', 'catalog.md'), 'utf8')
    expect(committed, 'docs/catalog.md is stale: run `npm run docs`').toBe(renderCatalogDocs())
  })

  it('renders the Japanese docs deterministically', () => {
    const ja = renderCatalogDocs('ja')
    expect(ja).toBe(renderCatalogDocs('ja'))
    expect(ja).toContain('# トラブルシューティングカタログ')
    for (const id of ALL_IDS) expect(ja).toContain(`## ${id}`)
  })
})
