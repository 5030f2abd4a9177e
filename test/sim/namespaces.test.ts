import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * Namespace deletion as a real cluster runs it: DELETE marks the namespace Terminating
 * (deletionTimestamp, status.phase), creating anything in it is then 403 with the NamespaceLifecycle
 * plugin's words, the namespace controller deletes its contents (pods gracefully; objects with
 * finalizers stay) and writes what is left into its conditions, and only once it is empty removes the
 * `kubernetes` finalizer and the namespace. Another spec finalizer keeps it until `finalize` takes it
 * out. The scenario clock runs 1000 times faster.
 */

const ADMIN = 'sim-admin-token'

interface Reply {
  status: number
  body: Record<string, unknown>
}

function call(sim: Sim, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { method, ca: sim.caPem, headers: { Authorization: `Bearer ${ADMIN}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType } : {}) } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

type Ns = { metadata: { deletionTimestamp?: string; resourceVersion?: string }; spec?: { finalizers?: string[] }; status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string; lastTransitionTime: string }> } }

describe('namespaces stay Terminating while their contents go', () => {
  let sim: Sim
  const ns = async (name: string): Promise<Reply & { ns: Ns }> => {
    const r = await call(sim, 'GET', `/api/v1/namespaces/${name}`)
    return { ...r, ns: r.body as unknown as Ns }
  }
  const small = { requests: { cpu: '10m', memory: '16Mi' } }
  beforeAll(async () => {
    sim = await start(withKnobs({ clockFactor: 0.001 }))
  })
  afterAll(async () => {
    await sim?.stop()
    expect(sim.bugs()).toEqual([])
  })

  it('a new namespace is Active with the kubernetes finalizer; only finalize changes spec.finalizers, only status the status', async () => {
    const created = await call(sim, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' }, spec: { finalizers: ['example.com/hold'] } })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ spec: { finalizers: ['example.com/hold', 'kubernetes'] }, status: { phase: 'Active' } })
    const patched = await call(sim, 'PATCH', '/api/v1/namespaces/fresh', { metadata: { labels: { team: 'a' } }, spec: { finalizers: [] }, status: { phase: 'Terminating' } }, 'application/merge-patch+json')
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ metadata: { labels: { team: 'a' } }, spec: { finalizers: ['example.com/hold', 'kubernetes'] }, status: { phase: 'Active' } })
    expect((await call(sim, 'POST', '/api/v1/namespaces/fresh/finalize', {})).status).toBe(405)
    if (hasKubectl) expect((await kubectl(sim.kubeconfig, ['get', 'ns', 'fresh', '--no-headers'])).stdout).toMatch(/^fresh\s+Active\s+\d+s\n$/)
  })

  it('DELETE marks it Terminating; creates in it are 403; the controller deletes what it holds and reports what remains; then it goes', async () => {
    expect((await call(sim, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } })).status).toBe(201)
    expect((await call(sim, 'POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'settings' }, data: { a: '1' } })).status).toBe(201)
    expect((await call(sim, 'POST', '/api/v1/namespaces/doomed/pods', { metadata: { name: 'kept', finalizers: ['example.com/keep'] }, spec: { containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'exec sleep 60'], resources: small }] } })).status).toBe(201)
    // A container that ignores SIGTERM holds its pod for its grace period: 300 s, 0.3 s here.
    expect((await call(sim, 'POST', '/api/v1/namespaces/doomed/pods', { metadata: { name: 'slow' }, spec: { terminationGracePeriodSeconds: 300, containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', "trap '' TERM; while true; do sleep 0.05; done"], resources: small }] } })).status).toBe(201)
    await expect.poll(async () => ((await call(sim, 'GET', '/api/v1/namespaces/doomed/pods/slow')).body as { status?: { phase?: string } }).status?.phase).toBe('Running')

    if (hasKubectl) {
      const del = await kubectl(sim.kubeconfig, ['delete', 'namespace', 'doomed', '--wait=false'])
      expect(del.stdout).toBe('namespace "doomed" deleted\n')
      expect((await kubectl(sim.kubeconfig, ['get', 'ns', 'doomed', '--no-headers'])).stdout).toMatch(/^doomed\s+Terminating\s+\d+s\n$/)
    } else {
      const del = await call(sim, 'DELETE', '/api/v1/namespaces/doomed')
      expect(del.status).toBe(200)
    }
    const marked = (await ns('doomed')).ns
    expect(marked.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(marked.status?.phase).toBe('Terminating')

    // Creating in it: the NamespaceLifecycle plugin's 403, naming the generateName when there is no name.
    const refused = await call(sim, 'POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } })
    expect(refused).toEqual({ status: 403, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated', reason: 'Forbidden', details: { name: 'late', kind: 'configmaps', causes: [{ reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' }] }, code: 403 } })
    const pod = await call(sim, 'POST', '/api/v1/namespaces/doomed/pods', { metadata: { generateName: 'runner-abc-' }, spec: { containers: [{ name: 'build', image: 'alpine:3.20', resources: small }] } })
    expect([pod.status, pod.body.message]).toEqual([403, 'pods "runner-abc-" is forbidden: unable to create new content in namespace doomed because it is being terminated'])
    const role = await call(sim, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/doomed/roles', { metadata: { name: 'r' }, rules: [] })
    expect(role.body).toMatchObject({ code: 403, message: 'roles.rbac.authorization.k8s.io "r" is forbidden: unable to create new content in namespace doomed because it is being terminated', details: { name: 'r', group: 'rbac.authorization.k8s.io', kind: 'roles' } })
    // Reads, updates and deletes in it still work.
    expect((await call(sim, 'GET', '/api/v1/namespaces/doomed/pods/kept')).status).toBe(200)

    // The controller deleted the configmap at once; the slow pod is Terminating and counted.
    await expect.poll(async () => (await call(sim, 'GET', '/api/v1/namespaces/doomed/configmaps/settings')).status).toBe(404)
    const early = (await ns('doomed')).ns
    expect(early.status?.conditions?.map((c) => c.type)).toEqual(['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure', 'NamespaceContentRemaining', 'NamespaceFinalizersRemaining'])
    expect(early.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' })
    expect(early.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: expect.stringMatching(/^Some resources are remaining: .*pods\. has [12] resource instances/) })
    // Once the slow pod has gone, the one with the finalizer is what is left (events the kubelet wrote meanwhile are deleted too).
    await expect.poll(async () => (await call(sim, 'GET', '/api/v1/namespaces/doomed/pods/slow')).status, { timeout: 5000 }).toBe(404)
    await expect.poll(async () => (await ns('doomed')).ns.status?.conditions?.filter((c) => c.status === 'True').map((c) => `${c.type} ${c.reason}: ${c.message}`), { timeout: 5000 }).toEqual([
      'NamespaceContentRemaining SomeResourcesRemain: Some resources are remaining: pods. has 1 resource instances',
      'NamespaceFinalizersRemaining SomeFinalizerRemain: Some finalizers are remaining: example.com/keep in 1 resource instances',
    ])
    const waiting = (await ns('doomed')).ns
    expect(waiting.spec?.finalizers).toEqual(['kubernetes'])
    expect(waiting.status?.phase).toBe('Terminating')
    expect(((await call(sim, 'GET', '/api/v1/namespaces/doomed/pods/kept')).body as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp).toBeDefined()

    // A second delete while the controller works: 409 in the registry's words.
    const again = await call(sim, 'DELETE', '/api/v1/namespaces/doomed')
    expect(again).toEqual({ status: 409, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Operation cannot be fulfilled on namespaces "doomed": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.', reason: 'Conflict', details: { name: 'doomed', kind: 'namespaces' }, code: 409 } })

    // The finalizer goes: the pod goes, the controller finalizes the namespace and deletes it.
    expect((await call(sim, 'PATCH', '/api/v1/namespaces/doomed/pods/kept', { metadata: { finalizers: null } }, 'application/merge-patch+json')).status).toBe(200)
    await expect.poll(async () => (await ns('doomed')).status, { timeout: 5000 }).toBe(404)
    if (hasKubectl) expect((await kubectl(sim.kubeconfig, ['get', 'ns', 'doomed'])).stderr).toContain('Error from server (NotFound): namespaces "doomed" not found')
  })

  it('another spec finalizer keeps it Terminating until finalize takes it out; kubectl delete waits for an empty one', async () => {
    const d = await call(sim, 'DELETE', '/api/v1/namespaces/fresh')
    expect(d.status).toBe(200)
    expect(d.body).toMatchObject({ kind: 'Namespace', metadata: { name: 'fresh', deletionTimestamp: expect.any(String) }, status: { phase: 'Terminating' } })
    await expect.poll(async () => (await ns('fresh')).ns.spec?.finalizers).toEqual(['example.com/hold'])
    const held = (await ns('fresh')).ns
    expect(held.status?.phase).toBe('Terminating')
    expect(held.status?.conditions?.every((c) => c.status === 'False')).toBe(true)
    expect((await call(sim, 'DELETE', '/api/v1/namespaces/fresh')).status).toBe(409)
    const fin = await call(sim, 'PUT', '/api/v1/namespaces/fresh/finalize', { ...held, spec: { finalizers: [] } })
    expect(fin.status).toBe(200)
    await expect.poll(async () => (await ns('fresh')).status).toBe(404)

    if (hasKubectl) {
      expect((await kubectl(sim.kubeconfig, ['create', 'namespace', 'brief'])).code).toBe(0)
      const r = await kubectl(sim.kubeconfig, ['delete', 'namespace', 'brief', '--timeout=20s'])
      expect([r.code, r.stdout]).toEqual([0, 'namespace "brief" deleted\n'])
      expect((await ns('brief')).status).toBe(404)
    }
  })

  it('default, kube-system and kube-public may not be deleted', async () => {
    const r = await call(sim, 'DELETE', '/api/v1/namespaces/default')
    expect(r).toEqual({ status: 403, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'namespaces "default" is forbidden: this namespace may not be deleted', reason: 'Forbidden', details: { name: 'default', kind: 'namespaces' }, code: 403 } })
  })
})
