import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { explain } from '../../src/catalog/explain.js'
import { GitlabClient, parseJobUrl, printableUrl } from '../../src/gitlab/client.js'
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
    expect(parseJobUrl('https://gitlab.example.com/group/sub/app/-/jobs/123')).toEqual({
      baseUrl: 'https://gitlab.example.com',
      project: 'group%2Fsub%2Fapp',
      jobId: '123',
      fallbacks: [
        { baseUrl: 'https://gitlab.example.com/group', project: 'sub%2Fapp' },
      ],
    })
    expect(parseJobUrl('https://host.example/gitlab/api/v4/projects/42/jobs/7/trace')).toEqual({ baseUrl: 'https://host.example/gitlab', project: '42', jobId: '7', fallbacks: [] })
    expect(parseJobUrl('https://gitlab.example.com/g/app/-/jobs/5?foo=1#L3')).toMatchObject({ project: 'g%2Fapp', jobId: '5', fallbacks: [] })
    expect(() => parseJobUrl('https://gitlab.example.com/group/app')).toThrow(/not a GitLab job URL/)
    expect(() => parseJobUrl('ftp://gitlab.example.com/g/app/-/jobs/1')).toThrow(/must use https or http/)
  })

  it('never repeats a query string (GitLab accepts private_token there) in its errors', () => {
    const err = (() => {
      try {
        parseJobUrl('https://gitlab.example.com/group/app?private_token=glpat-in-the-url')
      } catch (e) {
        return e as GkrError
      }
    })()
    expect(err?.code).toBe('job-url-invalid')
    expect(err?.message).toBe('not a GitLab job URL: https://gitlab.example.com/group/app')
    expect(printableUrl('https://user:pw@gitlab.example.com/a/-/jobs/1?private_token=x#y')).toBe('https://gitlab.example.com/a/-/jobs/1')
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

describe('explain --job on self-managed instances', () => {
  it('finds the instance under a relative URL (https://host/gitlab/…) by trying the other readings on the same host', async () => {
    const rel = await startFakeGitlab({ accessToken: ACCESS, trace: TRACE, prefix: '/gitlab', project: 'group%2Fapp' })
    try {
      const r = await explain({ job: { url: `${rel.url}/gitlab/group/app/-/jobs/42`, token: new Secret(ACCESS) } })
      expect(r.matches[0]?.id).toBe('rbac-forbidden')
      expect(rel.seen.map((x) => x.path)).toEqual(['/api/v4/projects/gitlab%2Fgroup%2Fapp/jobs/42/trace', '/gitlab/api/v4/projects/group%2Fapp/jobs/42/trace'])
    } finally {
      await rel.close()
    }
  })

  it('says when no token was given, and uses ?private_token= from the URL without printing it', async () => {
    const plain = await startFakeGitlab({ accessToken: ACCESS, trace: TRACE })
    try {
      const err = await caught(explain({ job: { url: `${plain.url}/api/v4/projects/7/jobs/42/trace` } }))
      expect(err).toMatchObject({ code: 'gitlab-token-rejected', exit: 2, at: { flag: '--token' } })
      expect(err.message).toContain('no token was given')
      const r = await explain({ job: { url: `${plain.url}/g/app/-/jobs/42?private_token=${ACCESS}` } })
      expect(r.matches[0]?.id).toBe('rbac-forbidden')
      expect(r.source.name).toBe(`${plain.url}/g/app/-/jobs/42`)
      expect(plain.seen.at(-1)?.privateToken).toBe(ACCESS)
    } finally {
      await plain.close()
    }
  })

  it('does not follow a redirect (the token stays with the named host) and says where it pointed', async () => {
    const moved = await startFakeGitlab({ accessToken: ACCESS, redirectTo: 'https://gitlab.example.com/api/v4/projects/7/jobs/42/trace?x=1' })
    try {
      const err = await caught(explain({ job: { url: `${moved.url}/api/v4/projects/7/jobs/42/trace`, token: new Secret(ACCESS) } }))
      expect(err).toMatchObject({ code: 'gitlab-redirect', exit: 2 })
      expect(err.message).toContain('to https://gitlab.example.com/api/v4/projects/7/jobs/42/trace (HTTP 301)')
      expect(moved.seen).toHaveLength(1)
    } finally {
      await moved.close()
    }
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
