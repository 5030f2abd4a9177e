import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { findResource } from '../../src/sim/resources.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * The simulator answers bad input as the API server does (400 decode errors, 422 Invalid with
 * causes, 400 for selectors it cannot parse) and never crashes; boolean query parameters are read as
 * the API server reads them; delete-collection deletes only what its selectors select; tables keep
 * the list's continue token, so kubectl get pages past 500 objects.
 */

const NS = 'gitlab-runner'
const ADMIN = 'sim-admin-token'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export function raw(sim: Sim, method: string, p: string, opts: { body?: unknown; headers?: Record<string, string>; headersOnly?: boolean } = {}): Promise<Reply> {
  const url = new URL(p, sim.url)
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: sim.caPem, headers: { Authorization: `Bearer ${ADMIN}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...opts.headers } }, (res) => {
      if (opts.headersOnly) {
        // A watch: its answer is the status line and headers; the stream is dropped at once.
        res.destroy()
        return resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' })
      }
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const json = (r: Reply): Record<string, unknown> => JSON.parse(r.text) as Record<string, unknown>
const pod = (name: string, container: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'main', image: 'alpine', resources: { requests: { cpu: '10m', memory: '16Mi' } }, ...container }] } })

describe('bad objects: 400/422 as the API server answers them, never a crash', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('a pod whose command is a number is a 400 decode error; the simulator keeps serving', async () => {
    const r = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods`, { body: pod('num', { command: 5 }) })
    expect(r.status).toBe(400)
    expect(json(r)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400, message: 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Pod.spec.containers.command of type []string' })
    const s = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods`, { body: pod('num2', { command: ['sh', 7] }) })
    expect(json(s)).toMatchObject({ code: 400, message: expect.stringContaining('cannot unmarshal number into Go struct field Pod.spec.containers.command of type string') })
    expect((await raw(sim, 'GET', '/version')).status).toBe(200)
    expect(sim.store.list(findResource('', 'v1', 'pods')!, NS).map((p) => p.metadata.name)).not.toContain('num')
    expect(sim.bugs()).toEqual([])
  })

  it('a ConfigMap with labels "oops" is a 400; label-selected lists keep answering 200', async () => {
    const r = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'oops', labels: 'oops' } } })
    expect(json(r)).toMatchObject({ code: 400, reason: 'BadRequest', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string' })
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=app%3Dx`)).status).toBe(200)
  })

  it('names, label keys and values and quantities are 422 Invalid with a cause per field', async () => {
    const r = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods`, { body: { ...(pod('Bad_Name', { resources: { requests: { cpu: 'lots' } } }) as object), metadata: { name: 'Bad_Name', labels: { 'a/b/c': 'x', ok: 'not ok' } } } })
    expect(r.status).toBe(422)
    const body = json(r) as { reason: string; message: string; details: { name: string; kind: string; causes: Array<{ field: string; reason: string }> } }
    expect(body.reason).toBe('Invalid')
    expect(body.message).toMatch(/^Pod "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/)
    expect(body.details.causes.map((c) => c.field)).toEqual(['metadata.name', 'metadata.labels', 'metadata.labels', 'spec.containers[0].resources.requests[cpu]'])
    const svc = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/services`, { body: { metadata: { name: 'a.b' }, spec: { ports: [{ port: 70000 }] } } })
    expect(json(svc)).toMatchObject({ code: 422, details: { causes: [{ field: 'metadata.name' }, { field: 'spec.ports[0].port', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' }] } })
    const sa = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { body: { metadata: { name: '-sa' } } })
    expect(json(sa)).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'ServiceAccount', causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }] } })
    const secret = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { body: { metadata: { name: 's' }, data: { k: 5 } } })
    expect(json(secret)).toMatchObject({ code: 400, message: expect.stringContaining('Secret.data[k] of type string') })
  })

  it('a body that is not an object, truncated JSON, a bad patch: 400 or 422, never 500', async () => {
    for (const body of ['5', 'null', '[]', '{"metadata":', '"x"']) {
      const r = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body })
      expect([body, r.status, json(r).kind]).toEqual([body, 400, 'Status'])
    }
    await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'patched' } } })
    const truncated = await raw(sim, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/patched`, { body: '{"data":', headers: { 'Content-Type': 'application/merge-patch+json' } })
    expect(truncated.status).toBe(400)
    const badOp = await raw(sim, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/patched`, { body: [{ op: 'frobnicate', path: '/data' }], headers: { 'Content-Type': 'application/json-patch+json' } })
    expect(json(badOp)).toMatchObject({ kind: 'Status', code: 422 })
    const badLabels = await raw(sim, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/patched`, { body: { metadata: { labels: 'oops' } }, headers: { 'Content-Type': 'application/merge-patch+json' } })
    expect(json(badLabels)).toMatchObject({ code: 400, reason: 'BadRequest' })
    const badPut = await raw(sim, 'PUT', `/api/v1/namespaces/${NS}/configmaps/patched`, { body: { metadata: { name: 'patched', labels: { k: 5 } } } })
    expect(json(badPut)).toMatchObject({ code: 400, reason: 'BadRequest' })
    const review = await raw(sim, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: '{"spec":' })
    expect(json(review)).toMatchObject({ kind: 'Status', code: 400 })
    expect(sim.bugs()).toEqual([])
  })
})

describe('query parameters, selectors, delete-collection and table pages', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('watch=True (the Python client) watches, as the API server reads booleans; watch=false lists', async () => {
    for (const v of ['True', 'TRUE', '1', 'true']) {
      const r = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?watch=${v}`, { headersOnly: true })
      expect([v, r.status, r.headers['transfer-encoding'], sim.audit.at(-1)!.verb]).toEqual([v, 200, 'chunked', 'watch'])
    }
    for (const v of ['false', 'False', '0']) {
      const r = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?watch=${v}`)
      expect([v, json(r).kind]).toEqual([v, 'ConfigMapList'])
    }
  })

  it('delete-collection deletes only what the label and field selectors select, and answers with the deleted list', async () => {
    for (const [name, app] of [['keep-1', 'other'], ['gone-1', 'job'], ['gone-2', 'job'], ['keep-2', 'job']]) {
      expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name, labels: { app: app! } } } })).status).toBe(201)
    }
    const r = await raw(sim, 'DELETE', `/api/v1/namespaces/${NS}/configmaps?labelSelector=app%3Djob&fieldSelector=metadata.name!%3Dkeep-2`)
    expect(r.status).toBe(200)
    const body = json(r) as { kind: string; items: Array<{ metadata: { name: string } }> }
    expect(body.kind).toBe('ConfigMapList')
    expect(body.items.map((o) => o.metadata.name)).toEqual(['gone-1', 'gone-2'])
    const left = json(await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps`)) as { items: Array<{ metadata: { name: string } }> }
    expect(left.items.map((o) => o.metadata.name)).toEqual(expect.arrayContaining(['keep-1', 'keep-2']))
    expect(left.items.map((o) => o.metadata.name)).not.toContain('gone-1')
    const bad = await raw(sim, 'DELETE', `/api/v1/namespaces/${NS}/configmaps?labelSelector=app%20in`)
    expect(json(bad)).toMatchObject({ kind: 'Status', code: 400 })
    expect(sim.store.list(findResource('', 'v1', 'configmaps')!, NS).map((o) => o.metadata.name)).toEqual(expect.arrayContaining(['keep-1', 'keep-2']))
  })

  it('an unknown field selector and a malformed label selector are 400, not an empty list', async () => {
    expect(json(await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods?fieldSelector=spec.foo%3Dx`))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' })
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods?fieldSelector=spec.nodeName%3Dnode-1`)).status).toBe(200)
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3Dx,type%3DWarning`)).status).toBe(200)
    for (const sel of ['a in', 'a,,b', 'a=b=c', '!', 'Bad Key=x', 'k=v v']) {
      const r = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=${encodeURIComponent(sel)}`)
      expect([sel, r.status]).toEqual([sel, 400])
    }
    for (const sel of ['a', '!a', 'a=b', 'a==b', 'a!=b', 'a in (x,y)', 'a notin (x),b', 'example.com/a=b']) {
      const r = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=${encodeURIComponent(sel)}`)
      expect([sel, r.status]).toEqual([sel, 200])
    }
  })

  it.runIf(hasKubectl)('kubectl get pages past 500 objects (tables keep continue); kubectl shows the selector errors', async () => {
    const def = findResource('', 'v1', 'configmaps')!
    for (let i = 0; i < 520; i++) sim.store.create(def, 'default', { metadata: { name: `many-${String(i).padStart(3, '0')}` } })
    const got = await kubectl(sim.kubeconfig, ['get', 'configmaps', '-n', 'default', '--no-headers'])
    expect(got.code).toBe(0)
    expect(got.stdout.trim().split('\n')).toHaveLength(520)
    const table = json(await raw(sim, 'GET', '/api/v1/namespaces/default/configmaps?limit=500', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })) as { metadata: { continue?: string; remainingItemCount?: number } }
    expect(table.metadata.remainingItemCount).toBe(20)
    expect(table.metadata.continue).toEqual(expect.any(String))
    const field = await kubectl(sim.kubeconfig, ['get', 'pods', '-n', NS, '--field-selector', 'spec.foo=x'])
    expect(field.code).toBe(1)
    expect(field.stderr.trim()).toBe('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.foo=x": field label not supported: spec.foo')
  })

  it('/version/ with a trailing slash answers like /version; every namespace has its default ServiceAccount', async () => {
    expect(json(await raw(sim, 'GET', '/version/'))).toMatchObject({ major: '1', minor: '33' })
    const sa = findResource('', 'v1', 'serviceaccounts')!
    expect(sim.store.tryGet(sa, NS, 'default')?.metadata.name).toBe('default')
    expect((await raw(sim, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'fresh' } } })).status).toBe(201)
    expect((await raw(sim, 'GET', '/api/v1/namespaces/fresh/serviceaccounts/default')).status).toBe(200)
  })
})
