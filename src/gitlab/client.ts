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
    const agent = new Agent({ connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
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
    throw usageError('job-url-invalid', `not a URL: ${input}`, { at: { flag: '--job' } })
  }
  const api = /^(?<prefix>.*?)\/api\/v4\/projects\/(?<project>[^/]+)\/jobs\/(?<job>\d+)(?:\/trace)?\/?$/.exec(u.pathname)
  if (api?.groups) return { baseUrl: u.origin + api.groups.prefix, project: api.groups.project!, jobId: api.groups.job! }
  const web = /^(?<path>\/.+?)\/-\/jobs\/(?<job>\d+)(?:\/.*)?$/.exec(u.pathname)
  if (web?.groups) {
    // The project path may sit under a relative-URL prefix; GitLab's API accepts the encoded full path.
    return { baseUrl: u.origin, project: encodeURIComponent(web.groups.path!.slice(1)), jobId: web.groups.job! }
  }
  throw usageError('job-url-invalid', `not a GitLab job URL: ${input}`, {
    at: { flag: '--job' },
    suggestions: ['Use the URL of the job page, e.g. https://gitlab.example.com/group/project/-/jobs/123.'],
  })
}

/** Streams a job's log (`GET /api/v4/projects/:id/jobs/:id/trace`). */
export async function fetchJobTrace(job: JobRef, opts: { token?: Secret; caFile?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<{ body: AsyncIterable<Uint8Array>; close(): Promise<void> }> {
  const client = await GitlabClient.create({ baseUrl: job.baseUrl, caFile: opts.caFile, timeoutMs: opts.timeoutMs })
  const res = await client.request(`/api/v4/projects/${job.project}/jobs/${job.jobId}/trace`, { token: opts.token, signal: opts.signal })
  if (res.status === 200) return { body: res.body, close: () => client.close() }
  await res.dump().catch(() => undefined)
  await client.close()
  if (res.status === 401 || res.status === 403) {
    throw usageError('gitlab-token-rejected', `GitLab answered ${res.status} for job ${job.jobId}: the token is missing, invalid or lacks read_api access to the project`, {
      at: { flag: '--token' },
      suggestions: ['Pass a personal or project access token with read_api scope via --token or GITLAB_TOKEN.'],
    })
  }
  if (res.status === 404) {
    throw usageError('job-not-found', `GitLab has no job ${job.jobId} in project ${decodeURIComponent(job.project)} (or the token cannot see it)`, { at: { flag: '--job' } })
  }
  throw incompleteError('gitlab-http-error', `GitLab answered HTTP ${res.status} for the job log`, { ref: 'gitlab-unreachable' })
}
