/**
 * The CLI finds its commands through oclif.manifest.json (written by `npm run build`, see
 * scripts/manifest.mjs), the docs and tests through the command map in src/index.ts: both must name
 * the same commands, with the same flags.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { commands } from '../../src/index.js'
import { ROOT } from '../helpers/cli.js'

describe('oclif.manifest.json', () => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as { version: string; commands: Record<string, { flags: Record<string, unknown>; relativePath: string[] }> }
  it('lists exactly the commands of the command map, each with its flags and its own file', () => {
    expect(Object.keys(manifest.commands).sort()).toEqual(Object.keys(commands).sort())
    for (const [id, C] of Object.entries(commands)) {
      const flags = Object.keys({ ...(C.baseFlags ?? {}), ...(C.flags ?? {}) }).filter((f) => f !== 'json')
      expect(Object.keys(manifest.commands[id]!.flags).filter((f) => f !== 'json').sort(), id).toEqual(flags.sort())
      expect(manifest.commands[id]!.relativePath.join('/'), id).toMatch(/^dist\/commands\//)
    }
  })
  it('is of this version of the package', () => {
    expect(manifest.version).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version)
  })
})
