import { existsSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIPv6 } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import os from 'node:os'
import path from 'node:path'
import type { Cluster, KubeConfig, User } from '@kubernetes/client-node'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { k8s, loadK8s, loadedK8s } from './client.js'
import type { LoadedRunner } from '../config/types.js'
import { kube } from '../config/load.js'
import { isSecret } from '../util/secret.js'
import { GkrError, usageError, type Location } from '../util/errors.js'
import { checkYamlDocument } from '../util/yaml-guard.js'
import { echoInput } from '../util/text.js'
import { ApiError, mapError, notKubernetes, tlsDetail, TLS_CERT_PROBLEMS, type PeerCertificateFacts } from './errors.js'
import { MAX_SOCKETS, pooledAgentFactory, type AgentObserver, type Destroyable } from './agents.js'
import { Http2Pool, type Http2Answer } from './http2.js'

/** Where the kubelet mounts a pod's service account: token, ca.crt and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/**
 * The pod doctor itself runs in, known only with in-cluster configuration: its name is the
 * container's HOSTNAME (the kubelet sets it to the pod name) and its namespace is the service
 * account's namespace file. `missing` says why it is unknown when either is absent.
 */
export interface SelfPod {
  name?: string
  namespace?: string
  missing?: string
}

export interface ClusterInfo {
  server: string
  context?: string
  namespace?: string
  identity?: string
  /** How the cluster was found: the runner config's host, a kubeconfig, or in-cluster configuration. */
  source: 'runner-config' | 'kubeconfig' | 'in-cluster'
  /** With in-cluster configuration: doctor's own pod (beside the runner manager, or the manager's own). */
  self?: SelfPod
}

export interface ApiStats {
  requests: number
  /** Answers that mean the API server (or etcd) is unwell: 5xx, 429, and no answer at all; not 500 InternalError. */
  serverErrors: number
  /**
   * 500 InternalError answers: something the API server calls on the request's way failed (an
   * admission webhook it could not reach, mostly), not the API server or etcd; with their first
   * few distinct Status messages.
   */
  internalErrors: number
  internalMessages: string[]
  errors: number
  retries: number
  /** Per answered request: connection to response headers (the agent's view; excludes pool waits). */
  latenciesMs: number[]
  /** New TCP connections the pooled agents opened (a reused keep-alive connection does not count). */
  connections: number
  /** When each try started and ended (performance.now()), for the measured critical path. */
  spans: Array<[number, number]>
}

/** At most this many requests in flight per cluster (one connection each): doctor's whole fan-out in one wave. */
export const MAX_IN_FLIGHT = MAX_SOCKETS

/**
 * The longest chain of requests that ran one after another (each started after the previous one
 * ended): the number of request latencies the wall clock had to wait for, measured from the spans
 * rather than claimed by the code that issued them.
 */
export function criticalPathDepth(spans: ReadonlyArray<readonly [number, number]>): number {
  // Longest chain of disjoint intervals: for each span in order of start, the best chain ending at it.
  const sorted = [...spans].sort((a, b) => a[0] - b[0])
  const best: number[] = []
  let depth = 0
  for (let i = 0; i < sorted.length; i++) {
    let b = 1
    for (let j = 0; j < i; j++) if (sorted[j]![1] <= sorted[i]![0] && best[j]! + 1 > b) b = best[j]! + 1
    best.push(b)
    if (b > depth) depth = b
  }
  return depth
}

export interface ResolveOptions {
  runner?: LoadedRunner
  kubeconfig?: string
  context?: string
  namespace?: string
  /** Impersonate this identity (system:serviceaccount:NS:NAME or a user) on every request, streams included. */
  as?: string
  /** Impersonate these groups as well (kubectl's --as-group); only together with `as`. */
  asGroups?: string[]
  env?: NodeJS.ProcessEnv
  home?: string
  /** The mounted service account (token, ca.crt, namespace) for in-cluster configuration; tests point it elsewhere. */
  serviceAccountDir?: string
  /** Per-request time limit (client-node 1.x has none of its own). */
  timeoutMs?: number
  /** Overrides of the runner's retry policy (tests inject `sleep`). */
  retry?: Partial<RetryPolicy>
}

/**
 * How API calls are retried: as the runner does (`retry_limit` tries in total, backoff from 500 ms
 * doubling up to `retry_backoff_max`), so doctor sees the cluster the way a job would.
 */
export interface RetryPolicy {
  tries: number
  backoffMaxMs: number
  /**
   * An extra first retry this soon after a failure, before the runner's own schedule starts: doctor's
   * (its requests change nothing, and most etcd hiccups are over within a round trip or two). It adds a
   * try, so doctor never gives up sooner than the runner would.
   */
  quickRetryMs?: number
  /** Waits between tries; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>
}

const RETRY_BACKOFF_MIN_MS = 500

/** The runner's retry settings from `[runners.kubernetes]`, normalised as the runner normalises them. */
export function runnerRetryPolicy(runner: LoadedRunner | undefined): RetryPolicy {
  const k = runner ? kube(runner) : {}
  const limit = typeof k.retry_limit === 'number' && k.retry_limit > 0 ? k.retry_limit : 5
  const max = typeof k.retry_backoff_max === 'number' && k.retry_backoff_max > 0 ? Math.max(k.retry_backoff_max, RETRY_BACKOFF_MIN_MS) : 2000
  return { tries: limit, backoffMaxMs: max }
}

/** Network failures the runner retries (connection reset/refused, broken pipe, dropped sockets). */
const TRANSIENT_NETWORK = new Set(['kube-econnreset', 'kube-epipe', 'kube-und_err_socket', 'kube-econnrefused'])

/**
 * Whether a failed call is worth another try: throttling (429), an API server that is unavailable or
 * shutting down (503), an etcd hiccup (500 with no reason: the API server wraps etcd's "leader changed"
 * or "request timed out" that way), or a dropped connection once the server has answered before (a
 * server that never answered is unreachable, not flaky). Not a 500 InternalError (a failing webhook
 * fails again) nor a 504 (the request already took the server's whole time limit). Judged by status and
 * reason, never by message text.
 */
function transient(err: Error, answeredBefore: boolean): boolean {
  if (err instanceof ApiError) return err.status === 429 || err.status === 503 || (err.status === 500 && !err.reason)
  return answeredBefore && err instanceof GkrError && TRANSIENT_NETWORK.has(err.code)
}

/** Seconds the server asked to wait (Retry-After, or a Status's details.retryAfterSeconds), if any. */
function retryAfterMs(err: Error): number | undefined {
  const s = err instanceof ApiError ? err.details?.retryAfterSeconds : undefined
  return typeof s === 'number' && s > 0 ? s * 1000 : undefined
}

/** A cluster to talk to, with the counters doctor reports. */
export class ClusterTarget {
  readonly stats: ApiStats = { requests: 0, serverErrors: 0, internalErrors: 0, internalMessages: [], errors: 0, retries: 0, latenciesMs: [], connections: 0, spans: [] }
  private answered = false
  private inFlight = 0
  private readonly waiting: Array<() => void> = []
  constructor(
    readonly kc: KubeConfig,
    readonly info: ClusterInfo,
    readonly timeoutMs: number,
    readonly retry: RetryPolicy = { tries: 1, backoffMaxMs: 0 },
  ) {
    // Every request to this cluster goes through one keep-alive agent per TLS identity (one handshake
    // per connection, not per request), and each agent is tracked, so the command's end can destroy
    // it (and the sockets of requests gkr gave up on, which would otherwise keep the process alive).
    const observe: AgentObserver = { onConnection: () => this.stats.connections++, onLatency: (ms) => this.stats.latenciesMs.push(ms) }
    const lib = kc as unknown as { createAgent?: (cluster: unknown, options: Record<string, unknown>) => Destroyable }
    const create = lib.createAgent
    if (typeof create === 'function') lib.createAgent = pooledAgentFactory((cluster, options) => create.call(kc, cluster, options), observe)
    // Typed calls and raw GETs share one HTTP/2 connection per TLS identity when the server speaks it
    // (kube-apiserver does); the keep-alive agents above carry them otherwise.
    this.http2 = new Http2Pool(observe)
    useHttp2(kc, this.http2)
  }

  private readonly http2: Http2Pool

  /**
   * Runs one API call, counted and timed, with the target's time limit; client errors become ApiErrors
   * (or GkrErrors for an unreachable server). Transient failures are tried again per the retry policy,
   * and every try counts in the stats (so a flaky server shows in doctor's API health even when the
   * retries hid it). Only for calls that persist nothing or are idempotent (reads, access reviews,
   * dry-run creates, deletes).
   */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.assertScheme()
    const sleep = this.retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await this.once(what, fn)
        this.answered = true
        return value
      } catch (err) {
        if (err instanceof ApiError) this.answered = true
        if (err instanceof GkrError && TLS_CERT_PROBLEMS.has(err.code)) throw await this.withCertificate(err)
        const quick = this.retry.quickRetryMs
        if (attempt >= this.retry.tries + (quick ? 1 : 0) || !transient(err as Error, this.answered)) throw err
        this.stats.retries++
        // The runner's schedule: 500 ms, doubling, capped at retry_backoff_max (after the quick retry, if any).
        const step = quick ? attempt - 1 : attempt
        const backoff = step === 0 ? quick! : Math.min(RETRY_BACKOFF_MIN_MS * 2 ** (step - 1), this.retry.backoffMaxMs)
        await sleep(Math.min(retryAfterMs(err as Error) ?? backoff, this.retry.backoffMaxMs))
      }
    }
  }

  /**
   * A trusted certificate that cannot be used (expired, not yet valid, for other names): the failed
   * handshake does not say its dates or names, so they are read on a second connection that does not
   * verify (and sends nothing but the handshake). Without an answer, the error stays as it was.
   */
  private async withCertificate(err: GkrError): Promise<GkrError> {
    const cluster = this.kc.getCurrentCluster()
    if (!cluster) return err
    const url = new URL(cluster.server)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const cert = await new Promise<PeerCertificateFacts | undefined>((resolve) => {
      const servername = cluster.tlsServerName ?? (/^[\d.]+$|:/.test(host) ? undefined : host)
      const socket = tlsConnect({ host, port: Number(url.port || 443), rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
        const c = socket.getPeerCertificate()
        socket.destroy()
        resolve(c && c.valid_to ? { validFrom: new Date(c.valid_from), validTo: new Date(c.valid_to), ...(c.subjectaltname ? { altNames: c.subjectaltname } : {}) } : undefined)
      })
      socket.setTimeout(Math.min(this.timeoutMs, 5000), () => socket.destroy())
      socket.on('error', () => resolve(undefined))
      socket.on('close', () => resolve(undefined))
    })
    return cert ? tlsDetail(err, cert, host, new Date()) : err
  }

  /** client-node refuses plain HTTP unless TLS verification is off (for typed calls and for the HTTPS options of raw GETs): a usage error, before any request. */
  private assertScheme(): void {
    const cluster = this.kc.getCurrentCluster()
    if (cluster && /^http:/i.test(cluster.server) && !cluster.skipTLSVerify) throw usageError('kube-plain-http', `the cluster server ${cluster.server} is plain http://, which the Kubernetes client only accepts with insecure-skip-tls-verify: true`, { suggestions: ['Use the https:// address of the API server, or set insecure-skip-tls-verify: true on the cluster for a local proxy.'] })
  }

  private async once<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.inFlight++
    this.stats.requests++
    const t0 = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`gkr gave up on ${what} after ${this.timeoutMs} ms`), { code: 'GKR_TIMEOUT' })), this.timeoutMs)
        }),
      ])
    } catch (err) {
      this.stats.errors++
      const mapped = mapError(err, what)
      // Judged by status and reason: etcd failures are 500s without a reason, a failing webhook call is InternalError.
      if (mapped instanceof ApiError && mapped.status === 500 && mapped.reason === 'InternalError') {
        this.stats.internalErrors++
        if (this.stats.internalMessages.length < 3 && !this.stats.internalMessages.includes(mapped.message)) this.stats.internalMessages.push(mapped.message)
      } else if (!(mapped instanceof ApiError) || mapped.status >= 500 || mapped.status === 429) this.stats.serverErrors++
      throw mapped
    } finally {
      if (timer) clearTimeout(timer)
      // Latencies are taken by the agent (from a connection to the answer, see pooledAgentFactory),
      // so waiting for a free connection in gkr's own pool is not blamed on the API server.
      this.stats.spans.push([t0, performance.now()])
      this.inFlight--
      this.waiting.shift()?.()
    }
  }

  /** A raw GET (for what the typed client cannot ask for, such as metadata-only lists). */
  async getJson<T>(pathAndQuery: string, accept = 'application/json'): Promise<T> {
    const cluster = this.kc.getCurrentCluster()
    if (!cluster) throw usageError('no-cluster', 'the kubeconfig has no current cluster')
    const url = new URL(pathAndQuery, cluster.server.replace(/\/$/, '') + '/')
    this.assertScheme()
    const opts: Parameters<typeof httpsRequest>[1] = { method: 'GET', headers: { Accept: accept } }
    await this.kc.applyToHTTPSOptions(opts)
    const h2 = this.http2.for(url, opts.agent)
    const answerOf = (status: number, body: string): T => {
      if (status >= 400) throw Object.assign(new Error(`HTTP ${status}`), { code: status, body })
      try {
        return JSON.parse(body) as T
      } catch {
        throw notKubernetes(`GET ${url.pathname}`, body)
      }
    }
    return this.call(`GET ${url.pathname}`, async () => {
      const answer: Http2Answer | undefined = h2 ? await h2.request({ method: 'GET', url, headers: headerPairs(opts.headers), timeoutMs: this.timeoutMs }) : undefined
      if (answer) return answerOf(answer.status, answer.body.toString('utf8'))
      return await new Promise<T>((resolve, reject) => {
        // An http:// server (a local proxy, an insecure port) gets plain HTTP, as the typed client does.
        const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, opts, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            try {
              resolve(answerOf(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')))
            } catch (err) {
              reject(err as Error)
            }
          })
        })
        req.on('error', reject)
        // gkr's own time limit (in `once`) gives up on the call; the socket goes with it.
        req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`gkr gave up on GET ${url.pathname} after ${this.timeoutMs} ms`), { code: 'GKR_TIMEOUT' })))
        req.end()
      })
    })
  }
}

/** Request headers as name/value pairs: a record (an array value is one line per element) or the pairs impersonate() builds. */
function headerPairs(headers: unknown): Array<[string, string]> {
  if (Array.isArray(headers)) return headers.map(([k, v]: [unknown, unknown]) => [String(k), String(v)])
  const out: Array<[string, string]> = []
  for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    if (v === undefined || v === null) continue
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, String(one)])
  }
  return out
}

/**
 * Makes every typed API client of `kc` send its requests over HTTP/2 when the server speaks it:
 * client-node builds each client with its own fetch-based HTTP library, so `makeApiClient` is replaced
 * by one that passes a library trying the target's HTTP/2 origin first and the fetch library otherwise.
 */
function useHttp2(kc: KubeConfig, pool: Http2Pool): void {
  const original = (kc as unknown as { makeApiClient?: unknown }).makeApiClient
  if (typeof original !== 'function') return
  let httpApi: unknown
  const make = function (this: unknown, type: new (config: unknown) => unknown): unknown {
    const lib = loadedK8s()
    const cluster = kc.getCurrentCluster()
    // Without the library loaded through loadK8s (a caller that imported the package itself), and
    // without a cluster, the client's own makeApiClient answers as it always did.
    if (!lib || !cluster) return (original as (t: unknown) => unknown).call(kc, type)
    httpApi ??= http2Library(lib, pool)
    return new type(lib.createConfiguration({ baseServer: new lib.ServerConfiguration(cluster.server, {}), authMethods: { default: kc }, httpApi: httpApi as ReturnType<typeof http2Library> }))
  }
  ;(kc as unknown as { makeApiClient: typeof make }).makeApiClient = make
}

/** The HTTP library of the typed clients: the target's HTTP/2 origin first, client-node's fetch library otherwise. */
function http2Library(lib: NonNullable<ReturnType<typeof loadedK8s>>, pool: Http2Pool): ReturnType<NonNullable<ReturnType<typeof loadedK8s>>['wrapHttpLibrary']> {
  const fetchLibrary = new lib.IsomorphicFetchHttpLibrary()
  return lib.wrapHttpLibrary({
    async send(ctx) {
      const url = new URL(ctx.getUrl())
      const origin = pool.for(url, ctx.getAgent())
      const body = ctx.getBody()
      if (origin && (body === undefined || typeof body === 'string' || Buffer.isBuffer(body))) {
        const signal = ctx.getSignal() as AbortSignal | undefined
        const answer = await origin.request({ method: String(ctx.getHttpMethod()), url, headers: headerPairs(ctx.getHeaders()), ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) })
        if (answer) return new lib.ResponseContext(answer.status, answer.headers, { text: () => Promise.resolve(answer.body.toString('utf8')), binary: () => Promise.resolve(answer.body) })
      }
      return await fetchLibrary.send(ctx).toPromise()
    },
  })
}

/** The parts of client-node's KubeConfig that put credentials and headers on a request. */
interface HeaderHooks {
  applyHTTPSOptions(opts: { headers?: Record<string, unknown> }): void
  applySecurityAuthentication(ctx: RequestContextLike): Promise<void>
}

interface RequestContextLike {
  getHeaders(): Record<string, string>
}

/**
 * A copy of `kc` whose every request impersonates `as` (and `groups`): typed calls, raw GETs and the
 * exec/attach WebSocket upgrades alike, since all of them take their headers from the same KubeConfig.
 * client-node knows only Impersonate-User, so the groups are added here, one header line per group (the
 * API server reads each line as one group; a comma-joined value would be a single group named "a,b").
 */
export function impersonate(kc: KubeConfig, as: string | undefined, groups: readonly string[] = []): KubeConfig {
  if (!as) {
    if (groups.length > 0) throw usageError('as-group-without-as', `--as-group ${groups.join(', ')} needs --as (or --as-runner): the API server impersonates groups only together with a user`, { at: { flag: '--as-group' } })
    return kc
  }
  const current = kc.getCurrentUser()
  const out = new (k8s().KubeConfig)()
  out.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users.map((u) => (u.name === current?.name ? { ...u, impersonateUser: as } : u)),
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  })
  if (groups.length === 0) return out
  const hooks = out as unknown as HeaderHooks
  const https = hooks.applyHTTPSOptions.bind(out)
  // WebSocket upgrades and raw GETs: node's http client sends an array value as one line per element.
  hooks.applyHTTPSOptions = (opts) => {
    https(opts)
    opts.headers = { ...opts.headers, 'Impersonate-Group': [...groups] }
  }
  const security = hooks.applySecurityAuthentication.bind(out)
  // Typed calls: the generated client keeps headers as a string record, which would join the groups
  // with commas; its fetch accepts header pairs, which keep one line per group.
  hooks.applySecurityAuthentication = async (ctx) => {
    await security(ctx)
    const headers = ctx.getHeaders()
    ctx.getHeaders = () => [...Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'impersonate-group'), ...groups.map((g) => ['Impersonate-Group', g])] as unknown as Record<string, string>
  }
  return out
}

/** The identity of the runner's service account (`service_account`, else `default`) in the namespace jobs run in. */
export function runnerIdentity(runner: LoadedRunner, namespace: string): string {
  const k = kube(runner)
  const sa = typeof k.service_account === 'string' && k.service_account ? k.service_account : 'default'
  return `system:serviceaccount:${namespace}:${sa}`
}

/**
 * Finds the cluster the way the runner does: the runner config's own host (with cert_file, key_file,
 * ca_file or bearer_token); otherwise a kubeconfig the user names (--kubeconfig, --context, $KUBECONFIG);
 * otherwise in-cluster configuration, then ~/.kube/config (with the config's `context`), the runner's
 * order. Undefined when there is none.
 */
export async function resolveCluster(opts: ResolveOptions): Promise<ClusterTarget | undefined> {
  const { KubeConfig } = await loadK8s()
  const env = opts.env ?? process.env
  const timeoutMs = opts.timeoutMs ?? 15_000
  const retry = { ...runnerRetryPolicy(opts.runner), ...opts.retry }
  const k = opts.runner ? kube(opts.runner) : {}
  const host = typeof k.host === 'string' ? k.host : ''
  const ns = opts.namespace ?? (typeof k.namespace === 'string' && k.namespace ? k.namespace : undefined)
  if (host && !opts.kubeconfig && !opts.context) {
    const token = isSecret(k.bearer_token) ? k.bearer_token.reveal() : typeof k.bearer_token === 'string' ? k.bearer_token : ''
    const read = (key: string): string | undefined => {
      const p = typeof k[key] === 'string' && k[key] ? (k[key] as string) : undefined
      if (!p) return undefined
      if (!existsSync(p)) throw usageError('kube-file-missing', `${key} ${p} does not exist`, { at: opts.runner ? { path: `runners[${opts.runner.index}].kubernetes.${key}` } : {} })
      return readFileSync(p).toString('base64')
    }
    const cluster: Cluster = { name: 'runner', server: host, skipTLSVerify: false, ...(read('ca_file') ? { caData: read('ca_file') } : {}) }
    const user: User = { name: 'runner', ...(token ? { token } : {}), ...(read('cert_file') ? { certData: read('cert_file') } : {}), ...(read('key_file') ? { keyData: read('key_file') } : {}) }
    const kc = new KubeConfig()
    kc.loadFromClusterAndUser(cluster, user)
    return new ClusterTarget(impersonate(kc, opts.as, opts.asGroups), { server: host, ...(ns ? { namespace: ns } : {}), ...(opts.as ? { identity: opts.as } : {}), source: 'runner-config' }, timeoutMs, retry)
  }
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR
  const inCluster = (): ClusterTarget | undefined => {
    if (!existsSync(path.join(saDir, 'token')) || !env.KUBERNETES_SERVICE_HOST) return undefined
    const kc = inClusterConfig(new KubeConfig(), env, saDir)
    const self = selfPod(env, saDir)
    return new ClusterTarget(impersonate(kc, opts.as, opts.asGroups), { server: kc.getCurrentCluster()!.server, ...(ns ? { namespace: ns } : {}), ...(opts.as ? { identity: opts.as } : {}), source: 'in-cluster', self }, timeoutMs, retry)
  }
  // The runner tries in-cluster configuration before a kubeconfig; a kubeconfig or context the user
  // names (--kubeconfig, --context, $KUBECONFIG) wins over both.
  if (!opts.kubeconfig && !opts.context && !env.KUBECONFIG) {
    const target = inCluster()
    if (target) return target
  }
  const home = opts.home ?? os.homedir()
  const files = opts.kubeconfig ? [opts.kubeconfig] : env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter).filter(Boolean) : [path.join(home, '.kube', 'config')]
  const existing = files.filter((f) => existsSync(f))
  if (opts.kubeconfig && existing.length === 0) throw usageError('kubeconfig-missing', `kubeconfig ${opts.kubeconfig} does not exist`, { at: { flag: '--kubeconfig' } })
  // A context names an entry of a kubeconfig: without one it cannot be honoured, and checking offline instead would hide that.
  if (opts.context && existing.length === 0) throw usageError('kubeconfig-missing', `context ${echoInput(opts.context)} needs a kubeconfig, and there is none (looked for ${files.join(', ')})`, { at: { flag: '--context' }, suggestions: ['Pass --kubeconfig, set $KUBECONFIG, or drop --context.'] })
  if (existing.length > 0) {
    const kc = loadKubeconfigFile(new KubeConfig(), existing[0]!)
    const context = opts.context ?? (typeof k.context === 'string' && k.context ? k.context : undefined)
    if (context) {
      if (!kc.getContextObject(context)) throw usageError('context-missing', `no context ${echoInput(context)} in ${existing[0]} (contexts: ${kc.getContexts().map((c) => c.name).join(', ')})`, { at: { flag: '--context' } })
      kc.setCurrentContext(context)
    }
    const cluster = kc.getCurrentCluster()
    checkCredentials(kc, existing[0]!)
    if (!cluster) {
      // A kubeconfig the user named must lead to a cluster; the default one may be an empty leftover.
      if (opts.kubeconfig || opts.context) throw usageError('kubeconfig-no-cluster', `kubeconfig ${existing[0]} names no current cluster (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, { at: { file: existing[0]! }, suggestions: ['Choose a context with --context, or set current-context in the kubeconfig.'] })
      return undefined
    }
    const ctx = kc.getContextObject(kc.getCurrentContext())
    return new ClusterTarget(impersonate(kc, opts.as, opts.asGroups), { server: cluster.server, context: kc.getCurrentContext(), ...(ns ?? ctx?.namespace ? { namespace: ns ?? ctx?.namespace } : {}), identity: opts.as ?? ctx?.user ?? '', source: 'kubeconfig' }, timeoutMs, retry)
  }
  return inCluster() ?? undefined
}

/**
 * In-cluster configuration as client-node's loadFromCluster builds it (https, or http on ports 80,
 * 8080 and 8001; IPv6 hosts in brackets; the CA file; the token re-read from its file as the kubelet
 * rotates it), but from the given environment and service account directory rather than the
 * process's own.
 */
function inClusterConfig(kc: KubeConfig, env: NodeJS.ProcessEnv, saDir: string): KubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? ''
  const port = env.KUBERNETES_SERVICE_PORT ?? '443'
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https'
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`
  const ca = path.join(saDir, 'ca.crt')
  const namespaceFile = path.join(saDir, 'namespace')
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : ''
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, skipTLSVerify: false, ...(existsSync(ca) ? { caFile: ca } : {}) }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(saDir, 'token') } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...(namespace ? { namespace } : {}) }],
    currentContext: 'inClusterContext',
  })
  return kc
}

/** Doctor's own pod: HOSTNAME (the pod name, unless the pod sets spec.hostname) in the service account's namespace. */
function selfPod(env: NodeJS.ProcessEnv, saDir: string): SelfPod {
  const name = env.HOSTNAME?.trim() ?? ''
  const namespaceFile = path.join(saDir, 'namespace')
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : ''
  const missing = [...(name ? [] : ['HOSTNAME is not set']), ...(namespace ? [] : [`${namespaceFile} is missing or empty`])]
  return { ...(name ? { name } : {}), ...(namespace ? { namespace } : {}), ...(missing.length ? { missing: missing.join(' and ') } : {}) }
}

/**
 * Reads a kubeconfig file into `kc`. Errors name the file (and the line and column of a YAML error);
 * the library's own message for an empty or non-mapping file is an internal TypeError, so say what it means.
 * Values the library would use as strings (server, certificate and key data, token, file names) must be
 * strings: a map, a number or a boolean there is a usage error naming the key, not a TypeError later.
 * Relative file names are taken relative to the kubeconfig's directory, as kubectl does.
 */
function loadKubeconfigFile(kc: KubeConfig, file: string): KubeConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw usageError('kubeconfig-invalid', `cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { at: { file } })
  }
  if (!text.trim()) throw usageError('kubeconfig-invalid', `kubeconfig ${file} is empty`, { at: { file } })
  const doc = parseKubeconfigYaml(text, file)
  if (doc) checkKubeconfigTypes(doc, file)
  try {
    kc.loadFromString(text)
  } catch (err) {
    const mark = (err as { mark?: { line?: number; column?: number } }).mark
    const reason = (err as { reason?: string }).reason
    if (mark && typeof mark.line === 'number') {
      throw usageError('kubeconfig-invalid', `invalid kubeconfig YAML: ${reason ?? (err as Error).message.split('\n')[0]}`, { at: { file, line: mark.line + 1, ...(typeof mark.column === 'number' ? { column: mark.column + 1 } : {}) } })
    }
    const message = err instanceof TypeError || err instanceof RangeError ? 'it is not a kubeconfig (expected a mapping with clusters, users and contexts)' : (err as Error).message.split('\n')[0]
    throw usageError('kubeconfig-invalid', `cannot read kubeconfig ${file}: ${message}`, { at: { file } })
  }
  kc.makePathsAbsolute(path.dirname(path.resolve(file)))
  return kc
}

interface KubeconfigDoc {
  doc: Document
  lineCounter: LineCounter
}

/**
 * The kubeconfig parsed once more with positions (the library's parser keeps none). Alias problems
 * (circular, undefined, alias bombs) are reported here with file:line:column. Undefined when this
 * parser cannot read the text: the library's parser then reports the syntax error.
 */
function parseKubeconfigYaml(text: string, file: string): KubeconfigDoc | undefined {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false })
  if (doc.errors.length > 0) return undefined
  const problem = checkYamlDocument(doc, { maxExpandedNodes: 100_000 })
  if (problem) {
    const pos = lineCounter.linePos(problem.offset)
    throw usageError('kubeconfig-invalid', `invalid kubeconfig YAML: ${problem.message}`, { at: { file, line: pos.line, column: pos.col } })
  }
  return { doc, lineCounter }
}

const CLUSTER_STRINGS = ['server', 'certificate-authority-data', 'certificate-authority', 'tls-server-name', 'proxy-url']
const USER_STRINGS = ['client-certificate-data', 'client-certificate', 'client-key-data', 'client-key', 'token', 'tokenFile', 'username', 'password']

function kubeconfigKeyAt(k: KubeconfigDoc | undefined, file: string, keyPath: Array<string | number>): Location {
  const node = k?.doc.getIn(keyPath, true) as { range?: [number, number, number] } | undefined
  const shown = formatKubeconfigPath(keyPath)
  if (!k || !node?.range) return { file, path: shown }
  const pos = k.lineCounter.linePos(node.range[0])
  return { file, line: pos.line, column: pos.col, path: shown }
}

const formatKubeconfigPath = (p: Array<string | number>): string => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')

function checkKubeconfigTypes(k: KubeconfigDoc, file: string): void {
  const root = k.doc.toJS({ maxAliasCount: -1 }) as Record<string, unknown>
  for (const [list, field, keys] of [['clusters', 'cluster', CLUSTER_STRINGS], ['users', 'user', USER_STRINGS]] as const) {
    const entries = root[list]
    if (!Array.isArray(entries)) continue
    entries.forEach((entry: unknown, i) => {
      const body = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[field] : undefined
      if (typeof body !== 'object' || body === null) return
      for (const key of keys) {
        const v = (body as Record<string, unknown>)[key]
        if (v === undefined || v === null || typeof v === 'string') continue
        const kind = Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`
        const keyPath = [list, i, field, key]
        throw usageError('kubeconfig-invalid', `${formatKubeconfigPath(keyPath)} must be a string, not ${kind}`, { at: kubeconfigKeyAt(k, file, keyPath) })
      }
    })
  }
}

/**
 * The certificate, key, CA and token files (and inline data) of the current context, checked before
 * the client reads them: a missing file or one that holds no PEM block is a usage error naming the
 * kubeconfig key and the file, e.g. "users[0].user.client-key: /x/key.pem does not exist".
 */
function checkCredentials(kc: KubeConfig, file: string): void {
  let located: KubeconfigDoc | undefined | null = null
  const at = (keyPath: Array<string | number>): Location => {
    if (located === null) {
      try {
        located = parseKubeconfigYaml(readFileSync(file, 'utf8'), file)
      } catch {
        located = undefined
      }
    }
    return kubeconfigKeyAt(located, file, keyPath)
  }
  const fail = (keyPath: Array<string | number>, message: string): never => {
    throw usageError('kubeconfig-credential-invalid', `${formatKubeconfigPath(keyPath)}: ${message}`, { at: at(keyPath), suggestions: [`Fix ${formatKubeconfigPath(keyPath)} in ${file}.`] })
  }
  const isPem = (b: Buffer): boolean => b.toString('latin1').includes('-----BEGIN ')
  const checkFile = (keyPath: Array<string | number>, p: string | undefined, pem: boolean): void => {
    if (!p) return
    let content: Buffer
    try {
      content = readFileSync(p)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      fail(keyPath, code === 'ENOENT' ? `${p} does not exist` : code === 'EISDIR' ? `${p} is a directory` : `cannot read ${p} (${code ?? 'error'})`)
      return
    }
    if (pem && !isPem(content)) fail(keyPath, `${p} holds no PEM block (-----BEGIN …)`)
  }
  const checkData = (keyPath: Array<string | number>, data: string | undefined): void => {
    if (!data) return
    if (!isPem(Buffer.from(data, 'base64'))) fail(keyPath, 'is not base64-encoded PEM data')
  }
  const cluster = kc.getCurrentCluster()
  const ci = cluster ? kc.clusters.indexOf(cluster) : -1
  if (cluster && ci >= 0) {
    checkFile(['clusters', ci, 'cluster', 'certificate-authority'], cluster.caFile, true)
    checkData(['clusters', ci, 'cluster', 'certificate-authority-data'], cluster.caData)
  }
  const user = kc.getCurrentUser()
  const ui = user ? kc.users.indexOf(user) : -1
  if (user && ui >= 0) {
    checkFile(['users', ui, 'user', 'client-certificate'], user.certFile, true)
    checkFile(['users', ui, 'user', 'client-key'], user.keyFile, true)
    checkData(['users', ui, 'user', 'client-certificate-data'], user.certData)
    checkData(['users', ui, 'user', 'client-key-data'], user.keyData)
  }
}
