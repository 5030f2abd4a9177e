import { readdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import type { Check, CheckResult } from '../../src/checks/types.js'
import type { Facts } from '../../src/checks/facts.js'
import { runCheck } from '../../src/checks/run.js'
import { parseConfigText, selectRunners } from '../../src/config/load.js'
import { parseCiSource } from '../../src/ci/parse.js'
import { ROOT } from './cli.js'

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'config')

export interface RunOptions {
  facts?: Facts
  online?: boolean
  /** .gitlab-ci.yml text. */
  ci?: string
}

/** Runs a check on config text, against every Kubernetes runner (or the first runner). */
export function runOn(check: Check, toml: string, opts: RunOptions = {}, file = 'config.toml'): CheckResult[] {
  const config = parseConfigText(toml, path.join('/fixtures', file))
  const runners = selectRunners(config)
  // As doctor does: with no runner at all, global checks still run once, on an empty placeholder runner.
  const placeholder = { index: 0, name: '', executor: '', settings: {}, featureFlags: {}, path: ['runners', 0] }
  const list = runners.length > 0 ? runners : config.runners.length > 0 ? config.runners.slice(0, 1) : [placeholder]
  const ciFile = opts.ci ? parseCiSource(opts.ci, '/fixtures/.gitlab-ci.yml') : undefined
  return list.map((runner) =>
    runCheck(check, { config, runner, facts: opts.facts ?? {}, ...(ciFile ? { ciFile } : {}), options: { online: opts.online ?? Boolean(opts.facts), live: false } }),
  )
}

export interface Expectation {
  /** Number of findings (over all runners). */
  count?: number
  message?: RegExp
  line?: number
  severity?: 'fail' | 'warn' | 'info'
}

/**
 * Runs a check over its fixture folder test/fixtures/config/<check id>/: every `pass*.toml` must give
 * no finding, every `fail*.toml` at least one. A `fail*.expect.json` next to a fixture pins the count,
 * message (regex source), line and severity; a `*.gitlab-ci.yml` next to it is passed as --ci-file.
 */
export function checkFixtures(check: Check): { pass: string[]; fail: string[] } {
  const dir = path.join(FIXTURES, check.id)
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.toml') || f.endsWith('.yaml')).sort() : []
  const pass = files.filter((f) => f.startsWith('pass'))
  const fail = files.filter((f) => f.startsWith('fail'))
  for (const f of [...pass, ...fail]) {
    const text = readFileSync(path.join(dir, f), 'utf8')
    const base = f.replace(/\.(toml|yaml)$/, '')
    const ciPath = path.join(dir, `${base}.gitlab-ci.yml`)
    const ci = existsSync(ciPath) ? readFileSync(ciPath, 'utf8') : undefined
    const results = runOn(check, text, { ...(ci ? { ci } : {}) }, f)
    const findings = results.flatMap((r) => r.findings)
    if (f.startsWith('pass')) {
      expect(findings.map((x) => x.message), `${check.id}/${f} should pass`).toEqual([])
      continue
    }
    expect(findings.length, `${check.id}/${f} should fail`).toBeGreaterThan(0)
    const expPath = path.join(dir, `${base}.expect.json`)
    if (existsSync(expPath)) {
      const e = JSON.parse(readFileSync(expPath, 'utf8')) as { count?: number; message?: string; line?: number; severity?: string }
      if (e.count !== undefined) expect(findings.length, `${check.id}/${f} count`).toBe(e.count)
      if (e.message) expect(findings.map((x) => x.message).join('\n'), `${check.id}/${f} message`).toMatch(new RegExp(e.message))
      if (e.line !== undefined) expect(findings[0]!.at?.line, `${check.id}/${f} line`).toBe(e.line)
      if (e.severity) expect(findings[0]!.severity, `${check.id}/${f} severity`).toBe(e.severity)
    }
    for (const x of findings) {
      expect(x.at, `${check.id}/${f}: every finding has a location`).toBeDefined()
      if (x.severity !== 'info') expect(x.fix?.text, `${check.id}/${f}: every fail/warn finding has a fix`).toBeTruthy()
    }
  }
  return { pass, fail }
}
