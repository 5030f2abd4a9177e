/**
 * The machine-readable reports checked by validators we did not write: SARIF against the OASIS 2.1.0
 * JSON schema (the copy shipped in @microsoft/jest-sarif), JUnit by a real XML parser and against what
 * GitLab's JUnit parser reads (Gitlab::Ci::Parsers::Test::Junit: <testcase> elements under <testsuite>,
 * each with classname and name; its status is `failed` with a <failure> child, `error` with <error>,
 * `skipped` with <skipped>, otherwise `success`).
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { beforeAll, describe, expect, it } from 'vitest'
import Doctor from '../../src/commands/doctor.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'

const require = createRequire(import.meta.url)
const SCHEMA = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>
const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv

function sarifValidator(): (doc: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }) // the schema's language pattern is not valid in u mode
  addFormats(ajv)
  // The file declares draft-07 but names itself with draft-04's `id`; Ajv 8 wants `$id`.
  delete SCHEMA.$schema
  if (typeof SCHEMA.id === 'string') {
    SCHEMA.$id = SCHEMA.id
    delete SCHEMA.id
  }
  const validate = ajv.compile(SCHEMA)
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`))
}

interface Case { '@_classname'?: string; '@_name'?: string; failure?: unknown; error?: unknown; skipped?: unknown }
interface Suite { '@_tests': string; '@_failures': string; '@_errors': string; '@_skipped': string; testcase: Case[] }

function gitlabStatus(c: Case): string {
  if (c.failure !== undefined) return 'failed'
  if (c.error !== undefined) return 'error'
  if (c.skipped !== undefined) return 'skipped'
  return 'success'
}

describe('reports against external validators', () => {
  let sarif: unknown
  let junit: string
  let examplesDir: string
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-validators-'))
    const out = { sarif: path.join(dir, 'gkr.sarif'), junit: path.join(dir, 'gkr.xml') }
    examplesDir = path.join(ROOT, 'examples')
    // typos.toml has failures, warnings and offline skips: every branch of both renderers.
    const r = await runCommand(Doctor, ['--offline', '-c', path.join(examplesDir, 'typos.toml'), '--sarif', out.sarif, '--junit', out.junit])
    expect(r.code).toBe(1)
    sarif = JSON.parse(readFileSync(out.sarif, 'utf8'))
    junit = readFileSync(out.junit, 'utf8')
  })

  it('SARIF validates against the SARIF 2.1.0 schema', () => {
    expect(sarifValidator()(sarif)).toEqual([])
  })

  it('SARIF: every rule helpUri is an absolute URL, every relative artifact uri has a uriBaseId the run defines', () => {
    const run = (sarif as { runs: Array<Record<string, any>> }).runs[0]!
    expect(run.tool.driver.rules.length).toBeGreaterThan(0)
    for (const rule of run.tool.driver.rules) if (rule.helpUri) expect(new URL(rule.helpUri).protocol).toBe('https:')
    const bases = Object.keys(run.originalUriBaseIds ?? {})
    for (const res of run.results) {
      const loc = res.locations[0].physicalLocation.artifactLocation
      if (!/^[a-z]+:/.test(loc.uri)) expect(bases).toContain(loc.uriBaseId)
      expect(new URL(loc.uri, loc.uriBaseId ? run.originalUriBaseIds[loc.uriBaseId].uri : undefined).protocol).toBe('file:')
    }
  })

  it('JUnit is well-formed XML and GitLab reads the same counts the suite attributes claim', () => {
    expect(XMLValidator.validate(junit)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(junit) as { testsuites: { testsuite: Suite[] } }
    const suites = doc.testsuites.testsuite
    expect(suites.length).toBeGreaterThan(0)
    for (const s of suites) {
      const statuses = s.testcase.map(gitlabStatus)
      for (const c of s.testcase) expect([typeof c['@_classname'], typeof c['@_name']]).toEqual(['string', 'string'])
      expect(Number(s['@_tests'])).toBe(s.testcase.length)
      expect(Number(s['@_failures'])).toBe(statuses.filter((x) => x === 'failed').length)
      expect(Number(s['@_errors'])).toBe(statuses.filter((x) => x === 'error').length)
      expect(Number(s['@_skipped'])).toBe(statuses.filter((x) => x === 'skipped').length)
      expect(statuses).toContain('failed')
    }
  })
})
