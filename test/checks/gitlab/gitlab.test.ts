import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gitlabChecks } from '../../../src/checks/gitlab/index.js'
import { runCheck } from '../../../src/checks/run.js'
import type { CheckContext } from '../../../src/checks/types.js'
import type { LoadedConfig, LoadedRunner } from '../../../src/config/types.js'
import { gatherGitlabFacts, PROBE_TOKEN, type GitlabFacts } from '../../../src/gitlab/facts.js'
import { isCatalogId } from '../../../src/catalog/ids.js'
import { Secret } from '../../../src/util/secret.js'
import { startFakeGitlab, throwawayCert, type Cert, type FakeGitlab } from '../../gitlab/fake-gitlab.js'

const GOOD = 'glrt-canary-runner-token-123456'
let cert: Cert
let caFile: string
let gl: FakeGitlab

beforeAll(async () => {
  cert = await throwawayCert()
  gl = await startFakeGitlab({ tls: cert, runnerToken: GOOD })
  caFile = path.join(mkdtempSync(path.join(tmpdir(), 'gkr-gl-')), 'ca.pem')
  writeFileSync(caFile, cert.cert)
})
afterAll(async () => {
  await gl.close()
})

const runner = (settings: Record<string, unknown>): LoadedRunner => ({ index: 0, name: 'k8s', executor: 'kubernetes', settings, featureFlags: {}, path: ['runners', 0] })
const config = { file: '/etc/gitlab-runner/config.toml', format: 'toml', global: {}, runners: [], raw: {}, locate: (p) => ({ file: '/etc/gitlab-runner/config.toml', path: p.join('.') }) } as LoadedConfig

function results(facts: GitlabFacts, r: LoadedRunner) {
  const ctx: CheckContext = { config, runner: r, facts: { gitlab: { ok: true, value: facts } }, options: { online: true, live: false } }
  return Object.fromEntries(gitlabChecks.map((c) => [c.id, runCheck(c, ctx)]))
}

describe('GitLab side checks', () => {
  it('have catalog links that exist', () => {
    for (const c of gitlabChecks) for (const id of c.catalog) expect(isCatalogId(id), `${c.id} → ${id}`).toBe(true)
  })

  it('pass against a healthy instance with a custom CA, and never send the runner token to jobs/request', async () => {
    const r = runner({ url: gl.url, token: new Secret(GOOD), 'tls-ca-file': caFile })
    const facts = await gatherGitlabFacts(r, { timeoutMs: 5000 })
    expect(facts.reach.status).toBe(401)
    expect(facts.verify?.status).toBe(200)
    expect(facts.jobRequest?.status).toBe(403)
    const res = results(facts, r)
    expect(Object.values(res).map((x) => x.status)).toEqual(['pass', 'pass', 'pass'])
    const jobReq = gl.seen.filter((s) => s.path === '/api/v4/jobs/request')
    expect(jobReq.at(-1)?.body?.token).toBe(PROBE_TOKEN)
    expect(JSON.stringify(facts)).not.toContain(GOOD)
  })

  it('fails TLS without the CA and skips the dependent checks', async () => {
    const r = runner({ url: gl.url, token: new Secret(GOOD) })
    const res = results(await gatherGitlabFacts(r, { timeoutMs: 5000 }), r)
    expect(res['gitlab-url-reachable']!.status).toBe('fail')
    expect(res['gitlab-url-reachable']!.findings[0]!.message).toMatch(/^TLS to https:\/\/127\.0\.0\.1:\d+ failed/)
    expect(res['gitlab-url-reachable']!.findings[0]!.fix?.toml).toContain('tls-ca-file')
    expect(res['gitlab-token-valid']!.status).toBe('skipped')
    expect(res['gitlab-job-request']!.status).toBe('skipped')
  })

  it('fails an invalid runner token without printing it', async () => {
    const r = runner({ url: gl.url, token: new Secret('glrt-revoked-token-999'), 'tls-ca-file': caFile })
    const res = results(await gatherGitlabFacts(r, { timeoutMs: 5000 }), r)
    expect(res['gitlab-token-valid']!.status).toBe('fail')
    expect(res['gitlab-token-valid']!.findings[0]).toMatchObject({ message: 'GitLab rejected the runner token (HTTP 403)', catalog: ['runner-token-invalid'], at: { path: 'runners.0.token' } })
    expect(JSON.stringify(res)).not.toContain('glrt-revoked-token-999')
  })

  it('fails when a job request hangs while other requests answer', async () => {
    const hang = await startFakeGitlab({ runnerToken: GOOD, hangJobRequest: true })
    try {
      const r = runner({ url: hang.url, token: new Secret(GOOD) })
      const res = results(await gatherGitlabFacts(r, { timeoutMs: 250 }), r)
      expect(res['gitlab-url-reachable']!.status).toBe('pass')
      expect(res['gitlab-job-request']!.status).toBe('fail')
      expect(res['gitlab-job-request']!.findings[0]!.message).toContain('got no answer (UND_ERR_HEADERS_TIMEOUT')
    } finally {
      await hang.close()
    }
  })

  it('warns about a slow job request (latency from an injected clock)', async () => {
    let t = 0
    const r = runner({ url: gl.url, token: new Secret(GOOD), 'tls-ca-file': caFile })
    const facts = await gatherGitlabFacts(r, { timeoutMs: 5000, now: () => (t += 6000) })
    // The three probes run at once: each one's span covers the clock readings of all six start/end calls but its own first.
    expect(facts.jobRequest?.ms).toBe(18_000)
    const slow = { ...facts, jobRequest: { status: 403, ms: 12_000 } }
    expect(results(slow, r)['gitlab-job-request']!.status).toBe('warn')
  })

  it('reports an unreachable host with its error code', async () => {
    const down = await startFakeGitlab({})
    const url = down.url
    await down.close()
    const r = runner({ url, token: new Secret(GOOD) })
    const res = results(await gatherGitlabFacts(r, { timeoutMs: 2000 }), r)
    expect(res['gitlab-url-reachable']!.findings[0]!.message).toContain('did not answer (ECONNREFUSED')
  })
})
