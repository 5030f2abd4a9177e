import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT, runCli } from '../helpers/cli.js'

describe('gkr binary', () => {
  it('prints its version', () => {
    const r = runCli(['--version'])
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`gkr/${pkg.version}`)
  })

  it('prints help listing its commands', () => {
    const r = runCli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('USAGE')
  })
})
