import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateDocs, ROOT } from '../../scripts/docs.js'

describe('generated documentation', () => {
  it('is current: every generated file equals what `npm run docs` writes', async () => {
    const docs = await generateDocs()
    expect(Object.keys(docs).length).toBeGreaterThanOrEqual(5)
    for (const [rel, content] of Object.entries(docs)) {
      const committed = await readFile(path.join(ROOT, rel), 'utf8').catch(() => '')
      expect(committed, `${rel} is stale: run \`npm run docs\``).toBe(content)
    }
  })

  it('documents every command with a summary and at least one example', async () => {
    const { commands } = await import('../../src/index.js')
    for (const [id, C] of Object.entries(commands)) {
      expect(C.summary, `${id} summary`).toMatch(/\S/)
      expect((C.examples ?? []).length, `${id} examples`).toBeGreaterThan(0)
    }
  })
})
