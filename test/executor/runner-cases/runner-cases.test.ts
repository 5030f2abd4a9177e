import { describe, expect, it } from 'vitest'
import { at, loadCases, renderCase, type RunnerCase } from './harness.js'

const cases = loadCases()
const norm = (v: unknown): unknown => (v === null ? undefined : v)
const sorted = (v: unknown): unknown => (Array.isArray(v) ? [...v].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : v)

function check(c: RunnerCase): void {
  const r = renderCase(c)
  const fatal = r.problems.filter((p) => p.fatal).map((p) => p.message)
  const warnings = [...r.problems.filter((p) => !p.fatal).map((p) => p.message), ...r.notes]
  if (c.problem !== undefined) expect(fatal.some((m) => m.includes(c.problem!)), `fatal problems: ${JSON.stringify(fatal)}`).toBe(true)
  else expect(fatal, 'the runner accepts this job').toEqual([])
  if (c.warning !== undefined) expect(warnings.some((w) => w.includes(c.warning!)), `warnings: ${JSON.stringify(warnings)}`).toBe(true)
  const value = (p: string): unknown => (c.anyOrder?.includes(p) ? sorted(at(r, p)) : at(r, p))
  const want = (p: string, v: unknown): unknown => (c.anyOrder?.includes(p) ? sorted(norm(v)) : norm(v))
  const deviating = new Set(Object.keys(c.deviation?.gkr ?? {}))
  for (const [p, w] of Object.entries(c.expect ?? {})) {
    if (deviating.has(p)) continue
    expect(value(p), p).toEqual(want(p, w))
  }
  for (const [p, re] of Object.entries(c.expectMatch ?? {})) expect(String(at(r, p)), p).toMatch(new RegExp(re))
  if (c.deviation) {
    expect(c.deviation.why.length, 'a deviation says why').toBeGreaterThan(20)
    for (const [p, gkr] of Object.entries(c.deviation.gkr)) {
      expect(value(p), `${p} (gkr's deliberate value)`).toEqual(want(p, gkr))
      if (p in (c.expect ?? {})) expect(norm(gkr), `${p}: a deviation differs from the runner`).not.toEqual(norm(c.expect![p]))
    }
  }
}

describe('expectations of the runner\'s own unit tests', () => {
  it('has at least 80 cases across the executor\'s areas, each naming its source', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80)
    for (const { c } of cases) expect(c.source.file && c.source.test && c.source.case, JSON.stringify(c.source)).toBeTruthy()
    const keys = cases.map(({ c }) => `${c.source.file} ${c.source.test} ${c.source.case}`)
    expect(new Set(keys).size, 'case names are unique').toBe(keys.length)
    const files = new Set(cases.map(({ file }) => file))
    for (const area of ['pod', 'services', 'secret', 'pdb', 'overwrites', 'pull-policies', 'security-context', 'windows', 'volumes', 'host-aliases', 'helper-image']) expect(files, area).toContain(`${area}.yaml`)
  })

  for (const { file, c } of cases) {
    it(`${file}: ${c.source.test} / ${c.source.case}`, () => check(c))
  }
})
