import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const QUOTA = 'ERROR: Job failed (system failure): pods "runner-z36gywsv-project-7-concurrent-37498b9" is forbidden: exceeded quota: all-resources, requested: requests.memory=1536Mi, used: requests.memory=57232Mi, limited: requests.memory=56Gi'

describe('gkr explain (end to end)', () => {
  it('explains a message: exit 0, extracted figures, fix', () => {
    const r = runCli(['explain', QUOTA])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('[quota-exceeded]')
    expect(r.stdout).toContain('limited=requests.memory=56Gi')
    expect(r.stdout).toContain('memory_limit = "2Gi"')
  })

  it('reads a file and stdin, and answers in Japanese from LANG', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gkr-explain-'))
    const file = path.join(dir, 'job.log')
    writeFileSync(file, `Running with gitlab-runner 17.5.0\n\x1b[31;1m${QUOTA}\x1b[0;m\n`)
    const fromFile = runCli(['explain', file, '--json'])
    expect(fromFile.code).toBe(0)
    const env = JSON.parse(fromFile.stdout)
    expect(env).toMatchObject({ command: 'explain', exitCode: 0, result: { source: { kind: 'file' }, matched: true } })
    expect(env.result.matches[0]).toMatchObject({ id: 'quota-exceeded', lineNumber: 2, fields: { quota: 'all-resources' } })

    const fromStdin = runCli(['explain', '-'], { input: `${QUOTA}\n`, env: { LANG: 'ja_JP.UTF-8' } })
    expect(fromStdin.code).toBe(0)
    expect(fromStdin.stdout).toContain('ResourceQuotaによりポッドやシークレットが拒否された')
  })

  it('says nothing matched and exits 1 for unknown text', () => {
    const r = runCli(['explain', 'all good here'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('gkr doctor')
    const j = runCli(['explain', 'all good here', '--json'])
    expect(j.code).toBe(1)
    expect(JSON.parse(j.stdout)).toMatchObject({ exitCode: 1, result: { matched: false, matches: [] } })
  })

  it('exits 2 without input and for a bad --job URL', () => {
    expect(runCli(['explain']).code).toBe(2)
    const r = runCli(['explain', '--job', 'not a url', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'job-url-invalid', at: { flag: '--job' } })
  })
})

describe('gkr catalog', () => {
  it('lists every entry (text and JSON)', () => {
    const r = runCli(['catalog'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^rbac-forbidden\s+The executor's service account lacks a permission$/m)
    const j = JSON.parse(runCli(['catalog', '--json']).stdout)
    expect(j.result.entries).toHaveLength(37)
  })

  it('shows one entry, and suggests ids for a typo with exit 2', () => {
    const r = runCli(['catalog', 'show', 'oom-killed', '--lang', 'ja'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('終了コード137')
    const bad = runCli(['catalog', 'show', 'quota-exeeded', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.message).toContain('did you mean quota-exceeded')
  })
})
