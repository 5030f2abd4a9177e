import { describe, expect, it } from 'vitest'
import { CATALOG } from '../../src/catalog/index.js'
import { explainText, normaliseLine } from '../../src/catalog/match.js'
import { VARIANTS } from './variants.js'

describe('realistic variants map to the right entry and extract the values', () => {
  it.each(VARIANTS)('%s', async (_name, line, id, fields) => {
    const ms = await explainText(`Running with gitlab-runner 17.5.0\n${line}\nCleaning up project directory and file based variables\n`)
    expect(ms[0]?.id).toBe(id)
    expect(ms[0]?.lineNumber).toBe(2)
    if (fields) expect(ms[0]?.fields).toMatchObject(fields)
  })

  it('has needles that occur in every variant line their pattern accepts (the prefilter never hides a match)', () => {
    for (const [, raw] of VARIANTS) {
      const line = normaliseLine(raw)
      for (const e of CATALOG) {
        for (const s of e.symptoms) {
          if (s.pattern.test(line)) expect(line.toLowerCase(), `${e.id}: needle "${s.needle}" missing from a line ${s.pattern} matches`).toContain(s.needle)
        }
      }
    }
  })
})
