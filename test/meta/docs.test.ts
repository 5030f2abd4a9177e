import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { commandFlags, generateDocs, ROOT } from '../../scripts/docs.js'

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

  it('documents each flag as oclif defines it (oclif.manifest.json): the same flags, descriptions, short names, defaults and options', async () => {
    const { commands } = await import('../../src/index.js')
    type Def = { description?: string; char?: string; default?: unknown; options?: readonly string[]; type?: string; hidden?: boolean }
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { flags: Record<string, Def> }> }
    const shape = (flags: Record<string, Def>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(flags).filter(([, f]) => !f.hidden).sort(([a], [b]) => a.localeCompare(b)).map(([n, f]) => [n, { description: f.description, char: f.char, type: f.type, options: f.options, default: typeof f.default === 'function' ? 'dynamic' : f.default === false ? undefined : f.default }]))
    for (const [id, C] of Object.entries(commands)) expect(shape(commandFlags(C as Parameters<typeof commandFlags>[0]) as Record<string, Def>), id).toEqual(shape(manifest.commands[id]!.flags))
  })
})
