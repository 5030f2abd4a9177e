/**
 * Facts about the GitLab side of one runner, gathered once before the checks in src/checks/gitlab run:
 * does `url` answer over TLS, is the runner token accepted, does a job request come back promptly.
 */
import type { LoadedRunner } from '../config/types.js'
import { GkrError } from '../util/errors.js'
import { isSecret, Secret } from '../util/secret.js'
import { GitlabClient } from './client.js'

export interface Probe {
  /** HTTP status, when the server answered. */
  status?: number
  /** Milliseconds until the response headers arrived (or until it failed). */
  ms: number
  /** Error code when no answer came: ENOTFOUND, ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, gitlab-tls, … */
  error?: string
  message?: string
  timedOut?: boolean
}

export interface GitlabFacts {
  /** The runner's `url`. */
  url: string
  /** The runner's `tls-ca-file`, when set. */
  caFile?: string
  /** `GET /api/v4/version`: any HTTP answer proves DNS, TCP and TLS work. */
  reach: Probe
  /** `POST /api/v4/runners/verify` with the runner token (absent when there is no token or no answer above). */
  verify?: Probe
  /**
   * `POST /api/v4/jobs/request` sent with a deliberately invalid token: GitLab answers 403 at once and can
   * never hand out a job, yet the request travels the same path (proxies, load balancers, Workhorse)
   * a real job request takes, so a hang here is the hang the runner sees.
   */
  jobRequest?: Probe
}

declare module '../checks/facts.js' {
  interface FactTypes {
    gitlab: GitlabFacts
  }
}

/** The token a probe sends to `jobs/request`: syntactically a token, known to nobody. */
export const PROBE_TOKEN = 'gkr-probe-not-a-runner-token'

export interface GatherOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** Clock for latency figures (injected by tests). */
  now?: () => number
}

export async function gatherGitlabFacts(runner: LoadedRunner, opts: GatherOptions = {}): Promise<GitlabFacts> {
  const now = opts.now ?? (() => performance.now())
  const url = typeof runner.settings.url === 'string' ? runner.settings.url : ''
  const caFile = typeof runner.settings['tls-ca-file'] === 'string' && runner.settings['tls-ca-file'] ? (runner.settings['tls-ca-file'] as string) : undefined
  const tokenValue = runner.settings.token
  const token: Secret | undefined = isSecret(tokenValue) ? tokenValue : typeof tokenValue === 'string' ? new Secret(tokenValue) : undefined
  const facts: GitlabFacts = { url, ...(caFile ? { caFile } : {}), reach: { ms: 0 } }
  let client: GitlabClient
  try {
    client = await GitlabClient.create({ baseUrl: url, caFile, timeoutMs: opts.timeoutMs })
  } catch (err) {
    facts.reach = { ms: 0, error: err instanceof GkrError ? err.code : 'error', message: err instanceof Error ? err.message : String(err) }
    return facts
  }
  const probe = async (path: string, init: { method: 'GET' | 'POST'; json?: unknown }): Promise<Probe> => {
    const t0 = now()
    try {
      // Every probe is read-only (verify checks a token, the job request uses one nobody has): they may
      // share the connection at once.
      const res = await client.request(path, { ...init, idempotent: true, signal: opts.signal })
      const ms = Math.round(now() - t0)
      await res.dump().catch(() => undefined)
      return { status: res.status, ms }
    } catch (err) {
      opts.signal?.throwIfAborted()
      const ms = Math.round(now() - t0)
      const cause = (err as { cause?: { code?: string } }).cause
      const code = cause?.code ?? (err instanceof GkrError ? err.code : 'error')
      return { ms, error: code, message: err instanceof Error ? err.message : String(err), ...(/TIMEOUT/.test(code) ? { timedOut: true } : {}) }
    }
  }
  try {
    // All three at once (one round trip, not three): verify and the job request only count when the
    // version request got an answer, so a GitLab that cannot be reached reports only that.
    const [reach, verify, jobRequest] = await Promise.all([
      probe('/api/v4/version', { method: 'GET' }),
      token && !token.isEmpty ? probe('/api/v4/runners/verify', { method: 'POST', json: { token: token.reveal() } }) : undefined,
      probe('/api/v4/jobs/request', { method: 'POST', json: { token: PROBE_TOKEN, info: { name: 'gkr-doctor' } } }),
    ])
    facts.reach = reach
    if (reach.status === undefined) return facts
    if (verify) facts.verify = verify
    facts.jobRequest = jobRequest
    return facts
  } finally {
    await client.close()
  }
}
