import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadK8s } from '../../src/kube/client.js'
import { ClusterTarget, runnerRetryPolicy, type RetryPolicy } from '../../src/kube/connect.js'
import { ApiError } from '../../src/kube/errors.js'
import { GkrError } from '../../src/util/errors.js'
import type { LoadedRunner } from '../../src/config/types.js'

/** A loopback API server that answers GET /api/v1/namespaces/ci from a script of responses, one per request. */
let server: Server
let url: string
let script: Array<{ status: number; body: string; headers?: Record<string, string> } | 'reset'> = []
let served = 0

beforeAll(async () => {
  await loadK8s()
  server = createServer((req, res) => {
    const next = script[Math.min(served++, script.length - 1)]!
    if (next === 'reset') {
      req.socket.destroy()
      return
    }
    res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers })
    res.end(next.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const OK = { status: 200, body: JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'ci' } }) }
const ETCD = { status: 500, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: leader changed', code: 500 }) }
const WEBHOOK = { status: 500, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Internal error occurred: failed calling webhook "x"', reason: 'InternalError', code: 500 }) }
const THROTTLED = { status: 429, body: 'Too many requests, please try again later.\n', headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' } }

async function target(policy: Partial<RetryPolicy>): Promise<{ t: ClusterTarget; waits: number[]; get: () => Promise<unknown> }> {
  const { KubeConfig, CoreV1Api } = await loadK8s()
  const kc = new KubeConfig()
  kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' })
  const waits: number[] = []
  const t = new ClusterTarget(kc, { server: url, source: 'kubeconfig' }, 5000, { tries: 5, backoffMaxMs: 2000, sleep: async (ms) => void waits.push(ms), ...policy })
  const core = kc.makeApiClient(CoreV1Api)
  return { t, waits, get: () => t.call('get namespace', () => core.readNamespace({ name: 'ci' })) }
}

function serve(...responses: typeof script): void {
  script = responses
  served = 0
}

describe('API calls are retried as the runner retries them', () => {
  it('an etcd hiccup (500 without a reason) is tried again with backoff from 500 ms, and every try is counted', async () => {
    serve(ETCD, ETCD, OK)
    const { t, waits, get } = await target({})
    await expect(get()).resolves.toMatchObject({ metadata: { name: 'ci' } })
    expect(waits).toEqual([500, 1000])
    expect(t.stats).toMatchObject({ requests: 3, retries: 2, errors: 2, serverErrors: 2 })
  })

  it('gives up after retry_limit tries in total, backoff capped at retry_backoff_max', async () => {
    serve(ETCD)
    const { t, waits, get } = await target({ tries: 4, backoffMaxMs: 800 })
    const err = await get().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toBe('etcdserver: leader changed')
    expect(waits).toEqual([500, 800, 800])
    expect(t.stats).toMatchObject({ requests: 4, retries: 3 })
  })

  it('doctor\'s quick retry comes first and adds a try: it never gives up sooner than the runner would', async () => {
    serve(ETCD)
    const { t, waits, get } = await target({ tries: 4, backoffMaxMs: 800, quickRetryMs: 100 })
    await expect(get()).rejects.toBeInstanceOf(ApiError)
    expect(waits).toEqual([100, 500, 800, 800])
    expect(t.stats).toMatchObject({ requests: 5, retries: 4 })
    serve(ETCD, OK)
    const quick = await target({ quickRetryMs: 100 })
    await expect(quick.get()).resolves.toMatchObject({ metadata: { name: 'ci' } })
    expect(quick.waits).toEqual([100])
  })

  it('throttling (plain-text 429) waits what Retry-After asks', async () => {
    serve(THROTTLED, OK)
    const { t, waits, get } = await target({})
    await get()
    expect(waits).toEqual([1000])
    expect(t.stats.retries).toBe(1)
  })

  it('a failing webhook (500 InternalError) and a Forbidden are answers, not hiccups: no retry', async () => {
    serve(WEBHOOK, OK)
    const a = await target({})
    await expect(a.get()).rejects.toThrow('failed calling webhook')
    expect(a.t.stats).toMatchObject({ requests: 1, retries: 0 })
    serve({ status: 403, body: JSON.stringify({ kind: 'Status', status: 'Failure', message: 'namespaces "ci" is forbidden', reason: 'Forbidden', code: 403 }) }, OK)
    const b = await target({})
    await expect(b.get()).rejects.toThrow('is forbidden')
    expect(b.t.stats.retries).toBe(0)
  })

  it('a dropped connection is retried once the server has answered; a server that never answered is unreachable at once', async () => {
    serve('reset', OK)
    const fresh = await target({})
    const err = await fresh.get().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GkrError)
    expect(fresh.t.stats).toMatchObject({ requests: 1, retries: 0 })
    serve(OK, 'reset', OK)
    const known = await target({})
    await known.get()
    await expect(known.get()).resolves.toMatchObject({ metadata: { name: 'ci' } })
    expect(known.t.stats).toMatchObject({ requests: 3, retries: 1 })
  })

  it('takes retry_limit and retry_backoff_max from the runner config, normalised as the runner does', () => {
    const runner = (k: Record<string, unknown>): LoadedRunner => ({ index: 0, name: 'r', executor: 'kubernetes', settings: { kubernetes: k }, featureFlags: {}, path: ['runners', 0] }) as unknown as LoadedRunner
    expect(runnerRetryPolicy(undefined)).toEqual({ tries: 5, backoffMaxMs: 2000 })
    expect(runnerRetryPolicy(runner({ retry_limit: 2, retry_backoff_max: 300 }))).toEqual({ tries: 2, backoffMaxMs: 500 })
    expect(runnerRetryPolicy(runner({ retry_limit: 0, retry_backoff_max: -1 }))).toEqual({ tries: 5, backoffMaxMs: 2000 })
  })
})

describe('raw GETs (metadata-only lists) follow the server URL scheme', () => {
  it('an http:// server (kubectl proxy, an insecure port) is asked over plain HTTP', async () => {
    serve(OK)
    const { t } = await target({})
    await expect(t.getJson('/api/v1/namespaces/ci', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1')).resolves.toMatchObject({ metadata: { name: 'ci' } })
    expect(t.stats.requests).toBe(1)
  })
})
