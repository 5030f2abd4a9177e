import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { explain } from '../../src/catalog/explain.js'
import { GitlabClient, parseJobUrl } from '../../src/gitlab/client.js'
import { GkrError } from '../../src/util/errors.js'
import { Secret } from '../../src/util/secret.js'
import { startFakeGitlab, throwawayCert, type Cert, type FakeGitlab } from './fake-gitlab.js'

const ACCESS = 'glpat-canary-0123456789abcdef'
const TRACE = [
  '\x1b[0KRunning with gitlab-runner 17.5.0 (abcdef12)\x1b[0;m',
  'x'.repeat(5000),
  '\x1b[31;1mERROR: Job failed (system failure): prepare environment: setting up build pod: pods is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods" in API group "" in the namespace "ci"\x1b[0;m',
].join('\n')

let cert: Cert
let gl: FakeGitlab
let caFile: string

beforeAll(async () => {
  cert = await throwawayCert()
  gl = await startFakeGitlab({ tls: cert, accessToken: ACCESS, trace: TRACE })
  const dir = mkdtempSync(path.join(tmpdir(), 'gkr-gitlab-'))
  caFile = path.join(dir, 'ca.pem')
  writeFileSync(caFile, cert.cert)
})
afterAll(async () => {
  await gl.close()
})

async function caught(p: Promise<unknown>): Promise<GkrError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(GkrError)
  return err as GkrError
}

describe('parseJobUrl', () => {
  it('reads web and API job URLs, with subgroups and relative-URL prefixes', () => {
    expect(parseJobUrl('https://gitlab.example.com/group/sub/app/-/jobs/123')).toEqual({ baseUrl: 'https://gitlab.example.com', project: 'group%2Fsub%2Fapp', jobId: '123' })
    expect(parseJobUrl('https://host.example/gitlab/api/v4/projects/42/jobs/7/trace')).toEqual({ baseUrl: 'https://host.example/gitlab', project: '42', jobId: '7' })
    expect(() => parseJobUrl('https://gitlab.example.com/group/app')).toThrow(/not a GitLab job URL/)
  })
})

describe('explain --job over HTTPS with a custom CA', () => {
  it('streams the trace with the token and finds the entry', async () => {
    const r = await explain({ job: { url: `${gl.url}/api/v4/projects/7/jobs/42/trace`, token: new Secret(ACCESS), caFile } })
    expect(r.source.kind).toBe('job')
    expect(r.matches[0]).toMatchObject({ id: 'rbac-forbidden', lineNumber: 3, fields: { verb: 'create', resource: 'pods', namespace: 'ci' } })
    expect(gl.seen.at(-1)?.privateToken).toBe(ACCESS)
  })

  it('fails TLS without the CA: exit INCOMPLETE, catalog ref gitlab-unreachable', async () => {
    const err = await caught(explain({ job: { url: `${gl.url}/g/app/-/jobs/42`, token: new Secret(ACCESS) } }))
    expect(err).toMatchObject({ code: 'gitlab-tls', exit: 3, ref: 'gitlab-unreachable' })
  })

  it('maps a rejected token to a usage error that never shows the token', async () => {
    const err = await caught(explain({ job: { url: `${gl.url}/api/v4/projects/7/jobs/42/trace`, token: new Secret('glpat-wrong-token-value'), caFile } }))
    expect(err).toMatchObject({ code: 'gitlab-token-rejected', exit: 2, at: { flag: '--token' } })
    expect(JSON.stringify({ m: err.message, s: err.suggestions })).not.toContain('glpat-wrong-token-value')
  })

  it('maps an unknown job to job-not-found', async () => {
    const err = await caught(explain({ job: { url: `${gl.url}/api/v4/projects/7/jobs/9/trace`, token: new Secret(ACCESS), caFile } }))
    expect(err.code).toBe('job-not-found')
  })
})

describe('GitlabClient errors', () => {
  it('maps connection refused to gitlab-unreachable (exit 3)', async () => {
    const closed = await startFakeGitlab({})
    const url = closed.url
    await closed.close()
    const client = await GitlabClient.create({ baseUrl: url, timeoutMs: 2000 })
    const err = await caught(client.request('/api/v4/version'))
    await client.close()
    expect(err).toMatchObject({ code: 'gitlab-unreachable', exit: 3, ref: 'gitlab-unreachable' })
    expect(err.message).toContain('ECONNREFUSED')
  })

  it('rejects an unreadable CA file as a usage error naming the file', async () => {
    const err = await caught(GitlabClient.create({ baseUrl: gl.url, caFile: '/nonexistent/ca.pem' }))
    expect(err).toMatchObject({ code: 'ca-file-unreadable', exit: 2, at: { file: '/nonexistent/ca.pem' } })
  })
})
