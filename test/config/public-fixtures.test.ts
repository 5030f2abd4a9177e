import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, selectRunners } from '../../src/config/load.js'
import { configChecks } from '../../src/checks/config/index.js'
import { runCheck } from '../../src/checks/run.js'
import { GkrError } from '../../src/util/errors.js'
import { FIXTURES } from '../helpers/check-tester.js'

interface Expected {
  file: string
  repo: string
  path: string
  commit: string
  shape: string
  loads: boolean
  must?: Array<{ check: string; severity: string; line: number | null; message: string }>
  mustNot?: string[]
  /** Checks that must not report anything on the file, not even a note. */
  mustNotNote?: string[]
  runnerVersion?: string
  error?: { message: string; line: number | null; exit: number }
}

const DIR = path.join(FIXTURES, 'public')
const { fixtures } = JSON.parse(readFileSync(path.join(DIR, 'PROVENANCE.json'), 'utf8')) as { fixtures: Expected[] }

describe('runner configurations from public repositories', () => {
  it('has at least 30 files, each with its source', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30)
    for (const f of fixtures) {
      expect(f.repo, f.file).toMatch(/^[\w.-]+\/[\w.-]+$/)
      expect(f.commit, f.file).toMatch(/^[0-9a-f]{40}$/)
      expect(f.shape, f.file).not.toBe('')
    }
  })

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_name, f) => {
    const file = path.join(DIR, f.file)
    let config
    try {
      config = await loadConfig({ path: file, env: {} })
    } catch (err) {
      expect(err, `${f.file} should ${f.loads ? 'load' : 'fail with a GkrError'}`).toBeInstanceOf(GkrError)
      const e = err as GkrError
      expect(f.loads, `${f.file} failed to load: ${e.message}`).toBe(false)
      expect(e.exit).toBe(f.error!.exit)
      expect(e.message).toContain(f.error!.message)
      expect(e.at?.file).toBe(file)
      if (f.error!.line !== null) expect(e.at?.line).toBe(f.error!.line)
      return
    }
    expect(f.loads, `${f.file} loaded but should fail with: ${f.error?.message}`).toBe(true)
    if (f.runnerVersion) expect(config.runnerVersion?.version).toBe(f.runnerVersion)
    const runners = selectRunners(config)
    expect(runners.length, 'the chart registers a Kubernetes runner').toBeGreaterThan(0)
    const findings = runners.flatMap((runner) => configChecks.flatMap((c) => runCheck(c, { config, runner, facts: {}, options: { online: false, live: false } }).findings))
    const got = findings.filter((x) => x.severity !== 'info').map((x) => ({ check: x.check, severity: x.severity, line: x.at?.line ?? null, message: x.message }))
    expect(got.map(({ check, severity, line }) => ({ check, severity, line }))).toEqual(f.must!.map(({ check, severity, line }) => ({ check, severity, line })))
    got.forEach((g, i) => expect(g.message.startsWith(f.must![i]!.message), `${g.message} / ${f.must![i]!.message}`).toBe(true))
    for (const id of f.mustNot ?? []) expect(findings.filter((x) => x.check === id && x.severity !== 'info').map((x) => x.message)).toEqual([])
    for (const id of f.mustNotNote ?? []) expect(findings.filter((x) => x.check === id).map((x) => x.message)).toEqual([])
    for (const x of findings) {
      expect(x.at?.file, `${x.check}: every finding has a location`).toBeTruthy()
    }
  })
})
