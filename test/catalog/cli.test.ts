/**
 * gkr explain / gkr catalog as commands. Most cases run the command class in this process (fast);
 * two spawn bin/run.js to prove the built CLI, a real file and a real stdin pipe work end to end.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Catalog from '../../src/commands/catalog/index.js'
import CatalogShow from '../../src/commands/catalog/show.js'
import Explain from '../../src/commands/explain.js'
import { runCli } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'
import { schemaErrors } from './mini-schema.js'
import { CATALOG } from '../../src/catalog/index.js'
import { startFakeGitlab, throwawayCert, type FakeGitlab } from '../gitlab/fake-gitlab.js'

const QUOTA = 'ERROR: Job failed (system failure): pods "runner-z36gywsv-project-7-concurrent-37498b9" is forbidden: exceeded quota: all-resources, requested: requests.memory=1536Mi, used: requests.memory=57232Mi, limited: requests.memory=56Gi'
const RBAC = 'ERROR: Job failed (system failure): pods "runner-x7k2p-project-9-concurrent-0abcde" is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods/attach" in API group "" in the namespace "ci"'

const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'schemas', 'explain-result.schema.json'), 'utf8')) as Record<string, unknown>
function expectValid(result: unknown): void {
  expect(schemaErrors(schema, result)).toEqual([])
}

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'gkr-explain-'))

describe('gkr explain (in-process)', () => {
  it('explains a message: exit 0, extracted figures, the figures side by side, the fix', async () => {
    const r = await runCommand(Explain, [QUOTA])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^1\. A ResourceQuota rejected the pod or secret {2}\[quota-exceeded\]$/m)
    expect(r.stdout).toContain('   line 1: ERROR: Job failed (system failure): pods "runner-z36gywsv')
    expect(r.stdout).toContain('limited=requests.memory=56Gi')
    expect(r.stdout).toContain('requests.memory: requested 1536Mi, already used 57232Mi, limit 56Gi (0.11Gi left).')
    expect(r.stdout).toContain('memory_limit = "2Gi"')
    expect(r.stdout).toMatch(/^ {3}Doctor checks: gkr doctor --only \S*cluster-quota/m)
  })

  it('prints the exact RBAC rule to add, and returns it in the JSON envelope', async () => {
    const r = await runCommand(Explain, [RBAC])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('system:serviceaccount:ci:runner may not create pods/attach in namespace ci.')
    expect(r.stdout).toMatch(/resources: \["pods\/attach"\]\n\s+verbs: \["create"\]/)
    const j = await runCommand(Explain, [RBAC, '--json'])
    const env = JSON.parse(j.stdout)
    expect(env).toMatchObject({ schemaVersion: 1, command: 'explain', exitCode: 0, result: { source: { kind: 'message' }, matched: true, lang: 'en' } })
    expect(env.result.matches[0]).toMatchObject({ id: 'rbac-forbidden', lineNumber: 1, fields: { verb: 'create', resource: 'pods/attach', namespace: 'ci', user: 'system:serviceaccount:ci:runner' } })
    expect(env.result.matches[0].advice.snippet.text).toContain('kind: RoleBinding')
    expectValid(env.result)
  })

  it('ranks several entries in one log, most specific first, each with its line number', async () => {
    const dir = tmp()
    const file = path.join(dir, 'job.log')
    writeFileSync(file, ['Running with gitlab-runner 17.5.0', 'WARNING: Event retrieved from the cluster: 0/3 nodes are available: 3 Insufficient cpu.', `\x1b[31;1m${QUOTA}\x1b[0;m`, ''].join('\n'))
    const env = JSON.parse((await runCommand(Explain, [file, '--json'])).stdout)
    expect(env.result.source).toEqual({ kind: 'file', name: file })
    expect(env.result.matches.map((m: { id: string; lineNumber: number }) => [m.id, m.lineNumber])).toEqual([['quota-exceeded', 3], ['scheduling-failed', 2]])
    expectValid(env.result)
  })

  it('reads a file of several read chunks: a line across the 1 MiB boundary, line numbers and counts kept', async () => {
    const dir = tmp()
    const file = path.join(dir, 'big.log')
    const filler = 'Step 7/12 : RUN apt-get update && apt-get install -y curl ca-certificates\n'
    // The quota line starts 20 bytes before the first 1 MiB read ends, so it arrives in two reads.
    const before = filler.repeat(Math.floor(((1 << 20) - 20) / filler.length))
    const pad = 'x'.repeat((1 << 20) - 20 - before.length - 1) + '\n'
    const tail = filler.repeat(40_000)
    const text = `${before}${pad}${QUOTA}\n${tail}WARNING: Event retrieved from the cluster: 0/3 nodes are available: 3 Insufficient cpu.\n${QUOTA}\n`
    writeFileSync(file, text)
    const lines = text.split('\n')
    const env = JSON.parse((await runCommand(Explain, [file, '--json'])).stdout)
    const quota = env.result.matches.find((m: { id: string }) => m.id === 'quota-exceeded')
    expect(quota).toMatchObject({ lineNumber: lines.indexOf(QUOTA) + 1, occurrences: 2, lineNumbers: [lines.indexOf(QUOTA) + 1, lines.length - 1] })
    expect(quota.line).toBe(QUOTA)
    expect(env.result.matches.find((m: { id: string }) => m.id === 'scheduling-failed')).toMatchObject({ lineNumber: lines.length - 2 })
  })

  it('reads stdin with `-` and answers in Japanese from LANG (and --lang wins over LANG)', async () => {
    const r = await runCommand(Explain, ['-'], { stdin: `noise\n${QUOTA}\n`, env: { LANG: 'ja_JP.UTF-8' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('ResourceQuotaによりポッドやシークレットが拒否された')
    expect(r.stdout).toContain('行 2:')
    expect(r.stdout).toContain('requests.memory: 要求 1536Mi、使用中 57232Mi、上限 56Gi（残り 0.11Gi）。')
    const en = await runCommand(Explain, ['-', '--lang', 'en'], { stdin: `${QUOTA}\n`, env: { LC_ALL: 'ja_JP.UTF-8' } })
    expect(en.stdout).toContain('A ResourceQuota rejected the pod or secret')
  })

  it('says nothing matched, suggests gkr doctor and exits 1 for unknown text (text, Japanese, JSON)', async () => {
    const r = await runCommand(Explain, ['all good here'])
    expect(r).toEqual({ code: 1, stderr: '', stdout: 'Nothing in the text matches a catalog entry. Run `gkr doctor` to check the runner configuration and the cluster.\n' })
    expect((await runCommand(Explain, ['all good here', '--lang', 'ja'])).stdout).toContain('`gkr doctor` を実行してください')
    const j = await runCommand(Explain, ['all good here', '--json'])
    expect(j.code).toBe(1)
    expect(JSON.parse(j.stdout)).toMatchObject({ exitCode: 1, result: { matched: false, matches: [], suggestions: ['Run `gkr doctor` to check the runner configuration and the cluster.'] } })
    expectValid(JSON.parse(j.stdout).result)
  })

  it('checks results against the schema for real (the checker is not a no-op)', () => {
    expect(schemaErrors(schema, { source: { kind: 'pipe', name: '-' }, matched: true, matches: [{ id: 'X' }], lang: 'en', extra: 1 })).toEqual([
      '$: missing answer',
      '$: missing structure',
      '$: missing dismissed',
      '$.source.kind: "pipe" not in ["message","file","stdin","job"]',
      '$.matches[0]: missing title',
      '$.matches[0]: missing ref',
      '$.matches[0]: missing line',
      '$.matches[0]: missing lineNumber',
      '$.matches[0]: missing fields',
      '$.matches[0]: missing weight',
      '$.matches[0]: missing occurrences',
      '$.matches[0]: missing lineNumbers',
      '$.matches[0]: missing confidence',
      '$.matches[0]: missing evidence',
      '$.matches[0].id: does not match ^[a-z0-9_-]+$',
      '$: unexpected property extra',
    ])
  })

  it('treats a single word that is not a path as a message', async () => {
    const r = await runCommand(Explain, ['ImagePullBackOff'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('[image-pull-failed]')
  })

  it('exits 2 with one paragraph naming the file for a missing, unreadable or directory path (no stack)', async () => {
    const missing = path.join(tmp(), 'job.log')
    const r = await runCommand(Explain, [missing])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`Error: ${missing}: no such file: ${missing}\n  Try: Check the path, or quote the error message to explain it as text.\n`)
    const j = JSON.parse((await runCommand(Explain, ['./no/such/trace.log', '--json'])).stdout)
    expect(j).toMatchObject({ exitCode: 2, error: { code: 'file-not-found', at: { file: './no/such/trace.log' } } })
    expect(j.error.stack).toBeUndefined()

    const dir = tmp()
    const d = await runCommand(Explain, [dir])
    expect(d.code).toBe(2)
    expect(d.stderr).toContain(`${dir} is a directory`)
    if (process.platform === 'linux') {
      // A regular file whose read fails (EIO), which also works as root, unlike chmod 000.
      const u = await runCommand(Explain, ['/proc/self/mem', '--json'])
      expect(u.code).toBe(2)
      expect(JSON.parse(u.stdout).error).toMatchObject({ code: 'file-unreadable', message: 'cannot read /proc/self/mem: EIO', at: { file: '/proc/self/mem' } })
    }
  })

  it('shows the stack only with --debug', async () => {
    const r = await runCommand(Explain, ['./missing.log', '--debug'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/\n\s+at /)
  })

  it('exits 2 without input, for a bad --job URL, and for both a message and --job', async () => {
    const none = await runCommand(Explain, [])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('nothing to explain')
    const bad = JSON.parse((await runCommand(Explain, ['--job', 'not a url', '--json'])).stdout)
    expect(bad).toMatchObject({ exitCode: 2, error: { code: 'job-url-invalid', at: { flag: '--job' } } })
    const both = JSON.parse((await runCommand(Explain, ['OOMKilled', '--job', 'https://gitlab.example.com/g/p/-/jobs/1', '--json'])).stdout)
    expect(both.error.code).toBe('explain-two-inputs')
  })
})

describe('gkr explain --job (in-process, HTTPS GitLab with its own CA)', () => {
  const TOKEN = 'glpat-canary-job-token-9f8e7d'
  let gl: FakeGitlab
  let caFile: string
  beforeAll(async () => {
    const cert = await throwawayCert()
    gl = await startFakeGitlab({ tls: cert, accessToken: TOKEN, trace: `Running with gitlab-runner 17.5.0\n\x1b[31;1m${RBAC}\x1b[0;m\n` })
    caFile = path.join(tmp(), 'ca.pem')
    writeFileSync(caFile, cert.cert)
  })
  afterAll(async () => {
    await gl.close()
  })

  it('explains the job log with the token from GITLAB_TOKEN, and never prints the token', async () => {
    const url = `${gl.url}/group/app/-/jobs/42`
    const text = await runCommand(Explain, ['--job', url, '--ca-file', caFile], { env: { GITLAB_TOKEN: TOKEN } })
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('[rbac-forbidden]')
    expect(text.stdout).toContain('line 2:')
    const json = await runCommand(Explain, ['--job', url, '--ca-file', caFile, '--token', TOKEN, '--json', '--debug'])
    expect(JSON.parse(json.stdout).result.source).toEqual({ kind: 'job', name: url })
    expectValid(JSON.parse(json.stdout).result)
    for (const r of [text, json]) expect(r.stdout + r.stderr).not.toContain(TOKEN)
  })

  it('maps 401 and 404 to exit 2 and a missing CA to exit 3, never printing the token', async () => {
    const wrong = 'glpat-wrong-token-0000'
    const denied = await runCommand(Explain, ['--job', `${gl.url}/group/app/-/jobs/42`, '--ca-file', caFile, '--token', wrong, '--debug'])
    expect(denied.code).toBe(2)
    expect(denied.stderr).toMatch(/^Error: --token: GitLab answered 401 for job 42: the token is invalid/)
    const missing = JSON.parse((await runCommand(Explain, ['--job', `${gl.url}/api/v4/projects/7/jobs/9/trace`, '--ca-file', caFile, '--token', TOKEN, '--json'])).stdout)
    expect(missing).toMatchObject({ exitCode: 2, error: { code: 'job-not-found', at: { flag: '--job' } } })
    const tls = await runCommand(Explain, ['--job', `${gl.url}/group/app/-/jobs/42`, '--token', TOKEN, '--json'])
    expect(tls.code).toBe(3)
    expect(JSON.parse(tls.stdout).error).toMatchObject({ code: 'gitlab-tls', ref: 'gitlab-unreachable' })
    for (const r of [denied, tls]) expect(r.stdout + r.stderr).not.toMatch(/glpat-/)
  })
})

describe('gkr catalog (in-process)', () => {
  it('lists every entry (text and JSON)', async () => {
    const r = await runCommand(Catalog, [])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^rbac-forbidden\s+The executor's service account lacks a permission$/m)
    expect(r.stdout.trim().split('\n')).toHaveLength(CATALOG.length)
    const j = JSON.parse((await runCommand(Catalog, ['--json'])).stdout)
    expect(j.result.entries).toHaveLength(CATALOG.length)
    expect(j.result.entries[0]).toEqual({
      id: 'job-failed-system-failure-timed-out-waiting-for-pod-to-start',
      title: 'Job failed (system failure): timed out waiting for pod to start',
      source: 'gitlab-docs',
      ref: 'https://docs.gitlab.com/runner/executors/kubernetes/troubleshooting/#job-failed-system-failure-timed-out-waiting-for-pod-to-start',
    })
    expect((await runCommand(Catalog, ['--lang', 'ja'])).stdout).toMatch(/^quota-exceeded\s+ResourceQuotaによりポッドやシークレットが拒否された$/m)
  })

  it('shows one entry, and suggests ids for a typo with exit 2', async () => {
    const r = await runCommand(CatalogShow, ['oom-killed', '--lang', 'ja'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('終了コード137')
    const j = JSON.parse((await runCommand(CatalogShow, ['oom-killed', '--json'])).stdout)
    expect(j.result).toMatchObject({ id: 'oom-killed', source: 'gkr' })
    expect(j.result.symptoms[0]).toHaveProperty('pattern')
    const bad = await runCommand(CatalogShow, ['quota-exeeded', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.message).toContain('did you mean quota-exceeded')
  })
})

describe('gkr explain (spawned bin/run.js)', () => {
  it('reads a log file with ANSI colours and answers with the JSON envelope', () => {
    const file = path.join(tmp(), 'job.log')
    writeFileSync(file, `Running with gitlab-runner 17.5.0\n\x1b[31;1m${QUOTA}\x1b[0;m\n`)
    const r = runCli(['explain', file, '--json'])
    expect(r.code).toBe(0)
    const env = JSON.parse(r.stdout)
    expect(env).toMatchObject({ command: 'explain', exitCode: 0, result: { source: { kind: 'file' }, matched: true } })
    expect(env.result.matches[0]).toMatchObject({ id: 'quota-exceeded', lineNumber: 2, fields: { quota: 'all-resources' } })
  })

  it('reads a real stdin pipe and exits 1 when nothing matches', () => {
    const r = runCli(['explain', '-'], { input: 'Job succeeded\n' })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('gkr doctor')
  })
})
