import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeDryRun, dryRunJob, formatObjects } from '../../src/runjob/dryrun.js'
import { ObjectClient } from '../../src/runjob/objects.js'
import { CleanupLedger } from '../../src/runjob/ledger.js'
import { ManualClock } from '../../src/runjob/clock.js'
import { loadK8s } from '../../src/kube/client.js'

/** A loopback API server: records every request; rejects pods as an admission webhook would. */
let server: Server
let url: string
const requests: { method: string; path: string }[] = []
const stored = new Set<string>()

beforeAll(async () => {
  // The product loads the client library in resolveCluster; these tests build their KubeConfig by hand.
  await loadK8s()
  server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url! })
      const u = new URL(req.url!, 'http://x')
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end(JSON.stringify(obj))
      }
      if (req.method === 'POST' && u.pathname.endsWith('/pods')) {
        return send(403, {
          kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
          message: 'admission webhook "policy.example.com" denied the request: privileged containers are not allowed',
        })
      }
      if (req.method === 'POST') {
        const obj = JSON.parse(body) as { metadata: { name: string } }
        if (u.searchParams.get('dryRun') !== 'All') stored.add(`${u.pathname}/${obj.metadata.name}`)
        return send(201, obj)
      }
      if (req.method === 'DELETE') {
        const key = u.pathname
        if (!stored.delete(key)) return send(404, { kind: 'Status', reason: 'NotFound', code: 404, message: 'not found' })
        return send(200, { kind: 'Status', status: 'Success' })
      }
      send(404, { kind: 'Status', reason: 'NotFound', code: 404, message: 'not found' })
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'canary-token-do-not-print' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }],
    currentContext: 'x',
  })
  return kc
}

const objects = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'runner-x-creds' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'c2VjcmV0' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner-x' }, spec: { containers: [{ name: 'build', image: 'alpine' }] } },
]

describe('dryRunJob', () => {
  it('submits every object with dryRun=All in order and explains the rejection', async () => {
    requests.length = 0
    const result = await dryRunJob({
      client: new ObjectClient(kubeConfig(url)), namespace: 'ci', objects,
      explain: (m) => (m.includes('admission webhook') ? { id: 'webhook-denied', title: 'An admission webhook denied the pod', fix: 'Ask for an exception.' } : undefined),
    })
    expect(requests.map((r) => r.method + ' ' + r.path)).toEqual([
      'POST /api/v1/namespaces/ci/secrets?dryRun=All',
      'POST /api/v1/namespaces/ci/pods?dryRun=All',
    ])
    expect(stored.size).toBe(0)
    expect(result.accepted).toBe(false)
    expect(result.steps[0]).toEqual({ kind: 'Secret', name: 'runner-x-creds', accepted: true })
    expect(result.steps[1]).toMatchObject({ kind: 'Pod', accepted: false, status: 403, reason: 'Forbidden', explanation: { id: 'webhook-denied' } })
    const text = describeDryRun(result)
    expect(text).toContain('rejected Pod/runner-x: admission webhook "policy.example.com" denied the request')
    expect(text).toContain('catalog: webhook-denied')
    expect(text).not.toContain('canary-token')
  })

  it('an unreachable cluster is exit 3', async () => {
    const dead = createServer()
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r))
    const port = (dead.address() as AddressInfo).port
    await new Promise<void>((r) => dead.close(() => r()))
    await expect(dryRunJob({ client: new ObjectClient(kubeConfig(`http://127.0.0.1:${port}`)), namespace: 'ci', objects }))
      .rejects.toMatchObject({ code: 'cluster-unreachable', exit: 3 })
  })
})

describe('formatObjects', () => {
  it('redacts secret values in yaml and json', () => {
    for (const format of ['yaml', 'json'] as const) {
      const out = formatObjects(objects, format)
      expect(out).not.toContain('c2VjcmV0')
      expect(out).toContain('[REDACTED]')
      expect(out).toContain('runner-x')
    }
  })
})

describe('ObjectClient + ledger', () => {
  it('creates for real, then cleanup deletes and tolerates NotFound', async () => {
    const client = new ObjectClient(kubeConfig(url))
    const ledger = new CleanupLedger()
    const secret = objects[0]!
    ledger.record({ apiVersion: 'v1', kind: 'Secret', namespace: 'ci', name: 'runner-x-creds' })
    await client.create(secret, 'ci')
    ledger.created({ apiVersion: 'v1', kind: 'Secret', namespace: 'ci', name: 'runner-x-creds' })
    ledger.record({ apiVersion: 'v1', kind: 'Pod', namespace: 'ci', name: 'runner-x' })
    await expect(client.create(objects[1]!, 'ci')).rejects.toBeDefined()
    expect(stored.has('/api/v1/namespaces/ci/secrets/runner-x-creds')).toBe(true)
    const report = await ledger.cleanup((ref) => client.delete(ref), { timeoutMs: 5000, clock: new ManualClock() })
    expect(report.deleted.map((r) => r.kind)).toEqual(['Secret'])
    expect(report.absent.map((r) => r.kind)).toEqual(['Pod'])
    expect(stored.size).toBe(0)
  })
})
