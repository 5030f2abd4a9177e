import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * Field managers as a real API server keeps them: every write records who set which fields
 * (`operation: Update`, or `Apply` for server-side apply), an apply that changes a field another
 * manager owns is a 409 Conflict worded like apimachinery's unless forced, and a field an applier
 * stops applying is removed unless another manager still owns it. Raw requests for the details,
 * unmodified kubectl for what a user sees.
 */

interface Reply {
  status: number
  body: Record<string, unknown>
}

interface Entry {
  manager: string
  operation: string
  apiVersion: string
  fieldsType: string
  fieldsV1: unknown
  subresource?: string
  time?: string
}

const NS = '/api/v1/namespaces/default'

describe('server-side apply with field managers', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    expect(sim?.bugs()).toEqual([])
    await sim?.stop()
  })

  function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
      const req = request(new URL(path, sim.url), { method, ca: sim.caPem, headers: { Authorization: 'Bearer sim-admin-token', Accept: 'application/json', 'Content-Type': type, 'User-Agent': 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', ...headers } }, (res) => {
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }))
      })
      req.on('error', reject)
      req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body))
    })
  }
  const apply = (path: string, manager: string, config: unknown, force = false): Promise<Reply> =>
    call('PATCH', `${path}?fieldManager=${manager}${force ? '&force=true' : ''}`, config, { 'Content-Type': 'application/apply-patch+yaml' })
  /** The managers' entries without their times, in order. */
  const managers = (r: Reply): Array<Omit<Entry, 'time'>> =>
    ((r.body.metadata as { managedFields?: Entry[] }).managedFields ?? []).map(({ time, ...e }) => {
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      return e
    })
  const cm = (name: string, data: Record<string, string>): unknown => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data })
  const data = (r: Reply): unknown => r.body.data

  it('a create records an Update entry for the User-Agent\'s product; PUT and PATCH add their managers\' changes and take them from others', async () => {
    const created = await call('POST', `${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'writes', labels: { app: 'x' } }, data: { a: '1', b: '2' } })
    expect(created.status).toBe(201)
    expect(managers(created)).toEqual([{ manager: 'node-fetch', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } } }])
    const read = await call('GET', `${NS}/configmaps/writes`)
    const put = await call('PUT', `${NS}/configmaps/writes?fieldManager=editor`, { ...read.body, data: { a: '1', b: 'changed', c: '3' } })
    expect(put.status).toBe(200)
    expect(managers(put)).toEqual([
      { manager: 'node-fetch', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } } },
      { manager: 'editor', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:b': {}, 'f:c': {} } } },
    ])
    const patched = await call('PATCH', `${NS}/configmaps/writes?fieldManager=patcher`, { data: { a: null, d: '4' } })
    expect(managers(patched)).toEqual([
      { manager: 'node-fetch', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } },
      { manager: 'editor', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:b': {}, 'f:c': {} } } },
      { manager: 'patcher', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:d': {} } } },
    ])
    // A write that changes nothing records nothing new.
    const again = await call('PATCH', `${NS}/configmaps/writes?fieldManager=idle`, { data: { d: '4' } })
    expect(managers(again).map((e) => e.manager)).toEqual(['node-fetch', 'editor', 'patcher'])
  })

  it('a status subresource write records its entry with subresource: status', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'status-writer' }, spec: { containers: [{ name: 'main', image: 'alpine:3.20' }] } }
    expect((await call('POST', `${NS}/pods?fieldManager=creator`, pod)).status).toBe(201)
    const r = await call('PATCH', `${NS}/pods/status-writer/status?fieldManager=reporter`, { status: { conditions: [{ type: 'Example', status: 'True' }] } })
    expect(r.status).toBe(200)
    const entry = managers(r).find((e) => e.manager === 'reporter')
    expect(entry).toEqual({ manager: 'reporter', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Example"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } } })
    // The creator's entry holds the spec it sent (with defaults), never the status.
    const creator = managers(r).find((e) => e.manager === 'creator')!
    expect(Object.keys(creator.fieldsV1 as object)).toEqual(['f:spec'])
  })

  it('an apply that changes a field another manager owns is a 409 Conflict in apimachinery\'s words; the same value is shared', async () => {
    expect((await apply(`${NS}/configmaps/shared`, 'a', cm('shared', { x: '1', y: '1' }))).status).toBe(201)
    const refused = await apply(`${NS}/configmaps/shared`, 'b', cm('shared', { x: '2' }))
    expect(refused.status).toBe(409)
    expect(refused.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Apply failed with 1 conflict: conflict with "a": .data.x', reason: 'Conflict', details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.data.x' }] }, code: 409 })
    const two = await apply(`${NS}/configmaps/shared`, 'b', cm('shared', { x: '2', y: '2' }))
    expect(two.body.message).toBe('Apply failed with 2 conflicts: conflicts with "a":\n- .data.x\n- .data.y')
    expect(data(await call('GET', `${NS}/configmaps/shared`))).toEqual({ x: '1', y: '1' })
    // Applying the live value is no conflict: both own it.
    const same = await apply(`${NS}/configmaps/shared`, 'b', cm('shared', { x: '1' }))
    expect(same.status).toBe(200)
    expect(managers(same).map((e) => [e.manager, e.fieldsV1])).toEqual([
      ['a', { 'f:data': { 'f:x': {}, 'f:y': {} } }],
      ['b', { 'f:data': { 'f:x': {} } }],
    ])
  })

  it('force=true takes the field over: it leaves the other manager\'s set', async () => {
    await apply(`${NS}/configmaps/forced`, 'a', cm('forced', { x: '1', y: '1' }))
    const forced = await apply(`${NS}/configmaps/forced`, 'b', cm('forced', { x: '2' }), true)
    expect(forced.status).toBe(200)
    expect(data(forced)).toEqual({ x: '2', y: '1' })
    expect(managers(forced).map((e) => [e.manager, e.fieldsV1])).toEqual([
      ['a', { 'f:data': { 'f:y': {} } }],
      ['b', { 'f:data': { 'f:x': {} } }],
    ])
  })

  it('an Update owner conflicts too, named with its version; kubectl-style multi-manager messages sort the managers', async () => {
    await call('POST', `${NS}/configmaps?fieldManager=creator`, cm('updated', { x: '1' }))
    await call('PATCH', `${NS}/configmaps/updated?fieldManager=patcher`, { data: { y: '1' } })
    const refused = await apply(`${NS}/configmaps/updated`, 'a', cm('updated', { x: '2', y: '2' }))
    expect(refused.status).toBe(409)
    expect(refused.body.message).toBe('Apply failed with 2 conflicts: conflicts with "creator" using v1:\n- .data.x\nconflicts with "patcher" using v1:\n- .data.y')
    expect((refused.body.details as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "creator" using v1', field: '.data.x' },
      { reason: 'FieldManagerConflict', message: 'conflict with "patcher" using v1', field: '.data.y' },
    ])
  })

  it('a field the applier stops applying is removed, unless another manager owns it', async () => {
    await apply(`${NS}/configmaps/pruned`, 'a', cm('pruned', { x: '1', y: '1', z: '1' }))
    await apply(`${NS}/configmaps/pruned`, 'b', cm('pruned', { y: '1' }))
    await call('PATCH', `${NS}/configmaps/pruned?fieldManager=patcher`, { data: { z: '1', w: '1' } })
    const r = await apply(`${NS}/configmaps/pruned`, 'a', cm('pruned', { x: '1' }))
    expect(r.status).toBe(200)
    // y is still b's; z was the patcher's as well (it sent the same value: an Update owns what it sent
    // only when it changed it), so z goes with a's ownership.
    expect(data(r)).toEqual({ x: '1', y: '1', w: '1' })
    expect(managers(r).map((e) => [e.manager, e.fieldsV1])).toEqual([
      ['a', { 'f:data': { 'f:x': {} } }],
      ['b', { 'f:data': { 'f:y': {} } }],
      ['patcher', { 'f:data': { 'f:w': {} } }],
    ])
  })

  it('keyed list items: a container the applier drops goes; one another manager owns a field of stays', async () => {
    const deploy = (containers: unknown[], replicas = 1): unknown => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
    })
    const path = '/apis/apps/v1/namespaces/default/deployments/web'
    const app = { name: 'app', image: 'nginx:1' }
    const side = { name: 'side', image: 'busybox:1' }
    const log = { name: 'log', image: 'fluent:1' }
    expect((await apply(path, 'a', deploy([app, side, log]))).status).toBe(201)
    // Another manager co-owns the log container's image.
    await apply(path, 'b', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'log', image: 'fluent:1' }] } } } })
    const r = await apply(path, 'a', deploy([app]))
    expect(r.status).toBe(200)
    const containers = ((r.body.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers).map((c) => c.name)
    expect(containers).toEqual(['app', 'log'])
    const refused = await apply(path, 'b', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } })
    expect(refused.body.message).toBe('Apply failed with 1 conflict: conflict with "a": .spec.replicas')
    const image = await apply(path, 'b', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } })
    expect(image.body.message).toBe('Apply failed with 1 conflict: conflict with "a": .spec.template.spec.containers[name="app"].image')
  })

  it('manager kubectl may take over what client-side apply last applied (its annotation) without a conflict, and keeps the annotation in step', async () => {
    const LAST = 'kubectl.kubernetes.io/last-applied-configuration'
    const last = '{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"migrated","namespace":"default"}}\n'
    await call('POST', `${NS}/configmaps?fieldManager=kubectl-client-side-apply`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'migrated', annotations: { [LAST]: last } }, data: { a: '1', b: '1' } })
    const other = await apply(`${NS}/configmaps/migrated`, 'other', cm('migrated', { a: '2' }))
    expect(other.body.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.a')
    // b was never in the last-applied configuration: still a conflict for kubectl.
    const outside = await apply(`${NS}/configmaps/migrated`, 'kubectl', cm('migrated', { a: '2', b: '2' }))
    expect(outside.body.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using v1:\n- .data.a\n- .data.b')
    const r = await apply(`${NS}/configmaps/migrated`, 'kubectl', { ...(cm('migrated', { a: '2' }) as object), metadata: { name: 'migrated', namespace: 'default' } })
    expect(r.status).toBe(200)
    expect(data(r)).toEqual({ a: '2', b: '1' })
    expect((r.body.metadata as { annotations: Record<string, string> }).annotations[LAST]).toBe('{"apiVersion":"v1","data":{"a":"2"},"kind":"ConfigMap","metadata":{"name":"migrated","namespace":"default"}}\n')
    expect(managers(r).map((e) => [e.manager, e.operation, e.fieldsV1])).toEqual([
      ['kubectl-client-side-apply', 'Update', { 'f:data': { 'f:b': {} }, 'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/last-applied-configuration': {} } } }],
      ['kubectl', 'Apply', { 'f:data': { 'f:a': {} } }],
    ])
  })

  describe.runIf(hasKubectl)('through unmodified kubectl', () => {
    const CM = (value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubectl-ssa\n  namespace: default\ndata:\n  a: "${value}"\n  b: keep\n`
    it('a second field manager changing a field gets kubectl\'s conflict text and exit 1; --force-conflicts wins; both managers show', async () => {
      const k = (args: string[], input?: string): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, args, input)
      expect((await k(['apply', '--server-side', '-f', '-'], CM('1'))).stdout.trim()).toBe('configmap/kubectl-ssa serverside-applied')
      const refused = await k(['apply', '--server-side', '--field-manager=other', '-f', '-'], CM('2'))
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.a\nPlease review the fields above--they currently have other managers.')
      expect(refused.stderr).toContain('--force-conflicts')
      const forced = await k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], CM('2'))
      expect(forced.code).toBe(0)
      const shown = await k(['get', 'cm', 'kubectl-ssa', '-n', 'default', '-o', 'yaml', '--show-managed-fields'])
      expect(shown.stdout).toContain('manager: kubectl\n')
      expect(shown.stdout).toContain('manager: other\n')
      const got = await k(['get', 'cm', 'kubectl-ssa', '-n', 'default', '-o', 'jsonpath={.data.a} {range .metadata.managedFields[*]}{.manager}:{.operation} {end}'])
      expect(got.stdout.trim()).toBe('2 kubectl:Apply other:Apply')
    })

    it('kubectl apply, then kubectl apply --server-side of a change: kubectl moves the ownership over, no conflict', async () => {
      const k = (args: string[], input?: string): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, args, input)
      const cfg = (value: string): string => CM(value).replace('kubectl-ssa', 'kubectl-csa')
      expect((await k(['apply', '-f', '-'], cfg('1'))).stdout.trim()).toBe('configmap/kubectl-csa created')
      const r = await k(['apply', '--server-side', '-f', '-'], cfg('2'))
      expect([r.code, r.stdout.trim()]).toEqual([0, 'configmap/kubectl-csa serverside-applied'])
      const got = await k(['get', 'cm', 'kubectl-csa', '-n', 'default', '-o', 'jsonpath={.data.a} {range .metadata.managedFields[*]}{.manager}:{.operation} {end}'])
      expect(got.stdout.trim()).toBe('2 kubectl:Apply kubectl-last-applied:Apply')
    })
  })
})
