import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from '../helpers/cli.js'
import { runMain } from '../helpers/run-command.js'

// In-process: the spawned binary's --version (both its fast path and oclif's) and --help are
// test/cli/startup.test.ts's subject, where the process boundary is the point.
describe('gkr', () => {
  it('prints its version', async () => {
    const r = await runMain(['--version'])
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`gkr/${pkg.version}`)
  })

  it('prints help listing its commands', async () => {
    const r = await runMain(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('USAGE')
    expect(r.stdout).toMatch(/^ {2}doctor +\S/m)
  })
})
