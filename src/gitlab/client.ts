/**
 * gkr's GitLab HTTP client (undici): one Agent per instance (custom CA, timeouts), tokens kept in
 * `Secret` and only revealed into the request header, network/TLS failures mapped to one GkrError.
 */
import { readFile } from 'node:fs/promises'
import type * as UndiciModule from 'undici'
import type { Dispatcher } from 'undici'
import { EXIT } from '../cli/exit-codes.js'
import { GkrError, incompleteError, usageError } from '../util/errors.js'
import type { Secret } from '../util/secret.js'

export interface GitlabClientOptions {
  /** Instance URL, e.g. https://gitlab.example.com (a path prefix for relative-URL installs is kept). */
  baseUrl: string
  /** PEM bundle trusted instead of the built-in roots (what the runner reads from `tls-ca-file`). */
  caFile?: string
  /** Connect + headers timeout per request. */
  timeoutMs?: number
}

export interface GitlabResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: AsyncIterable<Uint8Array>
  text(): Promise<string>
  /** Discards the rest of the body. */
  dump(): Promise<void>
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  /** Sent as JSON. */
  json?: unknown
  /** Sent as `PRIVATE-TOKEN` (personal/project access tokens). */
  token?: Secret
  signal?: AbortSignal
  /**
   * A POST that changes nothing (a probe) may go out while other requests are under way, like a GET
   * (undici holds back a POST until the connection is idle otherwise, because it could not be retried).
   */
  idempotent?: boolean
}

/** Error codes of Node/undici that mean "could not reach or trust the server". */
const NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
])
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|EPROTO/

type Undici = typeof UndiciModule

export class GitlabClient {
  readonly baseUrl: string
  private readonly agent: Dispatcher
  private readonly send: Undici['request']
  private readonly timeoutMs: number

  private constructor(baseUrl: string, agent: Dispatcher, send: Undici['request'], timeoutMs: number) {
    this.baseUrl = baseUrl
    this.agent = agent
    this.send = send
    this.timeoutMs = timeoutMs
  }

  static async create(opts: GitlabClientOptions): Promise<GitlabClient> {
    let base: URL
    try {
      base = new URL(opts.baseUrl)
    } catch {
      throw usageError('gitlab-url-invalid', `not a URL: ${opts.baseUrl}`)
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw usageError('gitlab-url-invalid', `GitLab URL must use https or http: ${opts.baseUrl}`)
    let ca: string | undefined
    if (opts.caFile) {
      try {
        ca = await readFile(opts.caFile, 'utf8')
      } catch (err) {
        throw usageError('ca-file-unreadable', `cannot read CA file ${opts.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at: { file: opts.caFile } })
      }
    }
    const timeoutMs = opts.timeoutMs ?? 15_000
    // undici is loaded here, not at start-up: only doctor's GitLab checks and explain --job use it.
    const { Agent, request } = await import('undici')
    // One connection per GitLab, HTTP/2 when it speaks it (gitlab.com and Omnibus' nginx do): doctor's
    // three probes are streams on it, one TLS handshake in all. A GitLab that speaks only HTTP/1.1
    // answers them one after another on the kept-alive connection (undici pipelines a POST only when the caller says it changes nothing).
    const agent = new Agent({ allowH2: true, connections: 1, pipelining: 16, connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    return new GitlabClient(base.href.replace(/\/+$/, ''), agent, request, timeoutMs)
  }

  /** Sends a request to `path` (e.g. `/api/v4/runners/verify`) and returns the response without reading the body. */
  async request(path: string, opts: RequestOptions = {}): Promise<GitlabResponse> {
    const url = this.baseUrl + path
    const headers: Record<string, string> = { 'user-agent': 'gkr', accept: 'application/json, text/plain, */*' }
    if (opts.token && !opts.token.isEmpty) headers['private-token'] = opts.token.reveal()
    let body: string | undefined
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.json)
    }
    try {
      const res = await this.send(url, {
        method: opts.method ?? 'GET',
        headers,
        body,
        dispatcher: this.agent,
        signal: opts.signal,
        ...(opts.idempotent !== undefined ? { idempotent: opts.idempotent } : {}),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      return {
        status: res.statusCode,
        headers: res.headers,
        body: res.body,
        text: () => res.body.text(),
        dump: () => res.body.dump(),
      }
    } catch (err) {
      throw mapNetworkError(err, url, opts.signal)
    }
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}

/** Turns a network, timeout or TLS failure into `gitlab-unreachable` (exit INCOMPLETE); others pass through. */
export function mapNetworkError(err: unknown, url: string, signal?: AbortSignal): unknown {
  if (err instanceof GkrError) return err
  if (signal?.aborted) return signal.reason instanceof GkrError ? signal.reason : new GkrError('interrupted', 'interrupted', { exit: EXIT.INTERRUPTED })
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  const code = e.cause?.code ?? e.code ?? ''
  const message = e.cause?.message ?? e.message ?? String(err)
  const host = safeHost(url)
  if (TLS_CODE.test(code) || /certificate|ssl|tls/i.test(message)) {
    return incompleteError('gitlab-tls', `TLS to ${host} failed: ${message} (${code || 'tls'})`, {
      ref: 'gitlab-unreachable',
      suggestions: ['Pass the CA bundle that signed the GitLab certificate with --ca-file (the runner reads it from `tls-ca-file`).'],
      cause: err,
    })
  }
  if (NETWORK_CODES.has(code) || e.cause !== undefined) {
    return incompleteError('gitlab-unreachable', `cannot reach ${host}: ${message}${code ? ` (${code})` : ''}`, {
      ref: 'gitlab-unreachable',
      suggestions: ['Check the URL, DNS and proxy settings, and that GitLab answers from this machine.'],
      cause: err,
    })
  }
  return err
}

function safeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

export interface JobRef {
  baseUrl: string
  /** Numeric id or URL-encoded full path. */
  project: string
  jobId: string
  /**
   * Other readings of a job page URL on an instance served under a relative URL
   * (`https://host/gitlab/group/app/-/jobs/1`: instance `https://host/gitlab`, project `group/app`).
   * Same origin as `baseUrl`, so the token never goes to another host; tried in order after a 404.
   */
  fallbacks: { baseUrl: string; project: string }[]
}

/** The URL without query, fragment or credentials: safe to print (GitLab accepts `?private_token=`). */
export function printableUrl(input: string): string {
  try {
    const u = new URL(input)
    return u.origin + u.pathname
  } catch {
    return input.replace(/[?#].*$/, '').replace(/\/\/[^/@]*@/, '//')
  }
}

/**
 * Parses a job URL as a browser shows it (`https://host[/prefix]/group/project/-/jobs/123`) or an API URL
 * (`https://host/api/v4/projects/42/jobs/123[/trace]`).
 */
export function parseJobUrl(input: string): JobRef {
  let u: URL
  try {
    u = new URL(input)
  } catch {
    throw usageError('job-url-invalid', `not a URL: ${printableUrl(input)}`, { at: { flag: '--job' } })
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usageError('job-url-invalid', `GitLab job URL must use https or http: ${printableUrl(input)}`, { at: { flag: '--job' } })
  const api = /^(?<prefix>.*?)\/api\/v4\/projects\/(?<project>[^/]+)\/jobs\/(?<job>\d+)(?:\/trace)?\/?$/.exec(u.pathname)
  if (api?.groups) return { baseUrl: u.origin + api.groups.prefix, project: api.groups.project!, jobId: api.groups.job!, fallbacks: [] }
  const web = /^(?<path>\/.+?)\/-\/jobs\/(?<job>\d+)(?:\/.*)?$/.exec(u.pathname)
  if (web?.groups) {
    const segments = web.groups.path!.slice(1).split('/').filter(Boolean)
    // A project path has at least a namespace and a name; anything before may be a relative-URL prefix.
    const readings = []
    for (let cut = 0; cut <= Math.min(2, segments.length - 2); cut++) {
      readings.push({ baseUrl: u.origin + segments.slice(0, cut).map((x) => `/${x}`).join(''), project: encodeURIComponent(decodeURIComponent(segments.slice(cut).join('/'))) })
    }
    if (readings.length) return { ...readings[0]!, jobId: web.groups.job!, fallbacks: readings.slice(1) }
  }
  throw usageError('job-url-invalid', `not a GitLab job URL: ${printableUrl(input)}`, {
    at: { flag: '--job' },
    suggestions: ['Use the URL of the job page, e.g. https://gitlab.example.com/group/project/-/jobs/123.'],
  })
}

/** Streams a job's log (`GET /api/v4/projects/:id/jobs/:id/trace`), trying the URL's other readings after a 404. */
export async function fetchJobTrace(job: JobRef, opts: { token?: Secret; caFile?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<{ body: AsyncIterable<Uint8Array>; close(): Promise<void> }> {
  const readings = [{ baseUrl: job.baseUrl, project: job.project }, ...job.fallbacks]
  for (const [i, r] of readings.entries()) {
    const client = await GitlabClient.create({ baseUrl: r.baseUrl, caFile: opts.caFile, timeoutMs: opts.timeoutMs })
    let res: GitlabResponse
    try {
      res = await client.request(`/api/v4/projects/${r.project}/jobs/${job.jobId}/trace`, { token: opts.token, signal: opts.signal })
    } catch (err) {
      await client.close()
      throw err
    }
    if (res.status === 200) return { body: res.body, close: () => client.close() }
    await res.dump().catch(() => undefined)
    await client.close()
    if (res.status === 404 && i < readings.length - 1) continue
    throw traceError(res, job, opts.token)
  }
  throw new Error('unreachable: no job URL reading was tried')
}

function traceError(res: GitlabResponse, job: JobRef, token: Secret | undefined): GkrError {
  const noToken = !token || token.isEmpty
  if (res.status === 401 || res.status === 403) {
    return usageError(
      'gitlab-token-rejected',
      noToken
        ? `GitLab answered ${res.status} for job ${job.jobId} and no token was given: the job log needs a token with read_api access to the project`
        : `GitLab answered ${res.status} for job ${job.jobId}: the token is invalid, expired, or lacks read_api access to the project`,
      {
        at: { flag: '--token' },
        suggestions: ['Pass a personal or project access token with read_api scope via --token or GITLAB_TOKEN.'],
      },
    )
  }
  if (res.status === 404) {
    return usageError('job-not-found', `GitLab has no job ${job.jobId} in project ${decodeURIComponent(job.project)}${noToken ? '' : ' (or the token cannot see it)'}`, {
      at: { flag: '--job' },
      suggestions: noToken ? ['Private projects answer 404 without a token: pass one via --token or GITLAB_TOKEN.'] : [],
    })
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.location
    const to = typeof location === 'string' ? printableUrl(location) : undefined
    return usageError('gitlab-redirect', `GitLab redirected the job log request${to ? ` to ${to}` : ''} (HTTP ${res.status}); gkr does not follow redirects so the token stays with the host you named`, {
      at: { flag: '--job' },
      suggestions: ['Use the instance\'s canonical URL (often https:// instead of http://) in --job.'],
    })
  }
  return incompleteError('gitlab-http-error', `GitLab answered HTTP ${res.status} for the job log`, { ref: 'gitlab-unreachable' })
}
