import { existsSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { Attach, AuthorizationV1Api, CoreV1Api, Exec, KubeConfig, Log, PatchStrategy, Watch, setHeaderOptions, type V1Pod, type V1Status } from '@kubernetes/client-node'
import { textSink as sink } from '../helpers/streams.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { podDir } from '../../src/sim/exec.js'
import type { Obj } from '../../src/sim/store.js'

/**
 * The simulator's API as clients see it, beyond what the kubectl and scenario tests show: Status
 * bodies byte for byte, the client library's own calls (exec, attach, log with follow, watch with
 * bookmarks, access reviews), metadata-only lists, impersonation, admission knobs, faults and the
 * audit log. Raw requests go through node:https with the simulator's CA.
 */

const NS = 'gitlab-runner'
const SA = 'system:serviceaccount:gitlab-runner:gitlab-runner'
const ADMIN = 'sim-admin-token'
const RUNNER = 'sim-runner-token'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

function raw(sim: Sim, method: string, p: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(p, sim.url)
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: sim.caPem, headers: { Authorization: `Bearer ${opts.token ?? ADMIN}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...opts.headers } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const status = (code: number, reason: string | undefined, message: string, details?: Record<string, unknown>): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, ...(reason ? { reason } : {}), ...(details ? { details } : {}), code })

const pod = (name: string, containers: V1Pod['spec'] extends infer S ? S extends { containers: infer C } ? C : never : never): V1Pod => ({ metadata: { name, namespace: NS }, spec: { restartPolicy: 'Never', containers } })
const small = { requests: { cpu: '10m', memory: '16Mi' } }


function clients(sim: Sim, identity = 'admin'): { kc: KubeConfig; core: CoreV1Api } {
  const kc = new KubeConfig()
  kc.loadFromFile(sim.kubeconfigFor(identity))
  return { kc, core: kc.makeApiClient(CoreV1Api) }
}


describe('Status errors, byte for byte', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('NotFound, AlreadyExists, Conflict, Invalid, Unauthorized and a bad dryRun value', async () => {
    expect(await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods/nope`)).toMatchObject({ status: 404, text: status(404, 'NotFound', 'pods "nope" not found', { name: 'nope', kind: 'pods' }) })
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dup' } }
    const first = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm })
    expect(first.status).toBe(201)
    expect(await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm })).toMatchObject({ status: 409, text: status(409, 'AlreadyExists', 'configmaps "dup" already exists', { name: 'dup', kind: 'configmaps' }) })
    const stale = { ...cm, metadata: { name: 'dup', resourceVersion: '1' }, data: { a: 'b' } }
    expect(await raw(sim, 'PUT', `/api/v1/namespaces/${NS}/configmaps/dup`, { body: stale })).toMatchObject({
      status: 409,
      text: status(409, 'Conflict', 'Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again', { name: 'dup', kind: 'configmaps' }),
    })
    const current = JSON.parse(first.text) as { metadata: { resourceVersion: string } }
    expect((await raw(sim, 'PUT', `/api/v1/namespaces/${NS}/configmaps/dup`, { body: { ...stale, metadata: { name: 'dup', resourceVersion: current.metadata.resourceVersion } } })).status).toBe(200)
    const bad = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } } })
    expect(bad).toMatchObject({
      status: 422,
      text: status(422, 'Invalid', 'Pod "bad" is invalid: [spec.containers[0].image: Required value, spec.containers[1].image: Required value]', {
        name: 'bad', kind: 'Pod', causes: [{ field: 'spec.containers[0].image', message: 'Required value', reason: 'FieldValueRequired' }, { field: 'spec.containers[1].image', message: 'Required value', reason: 'FieldValueRequired' }],
      }),
    })
    expect(await raw(sim, 'GET', '/api/v1/nodes', { token: 'wrong' })).toMatchObject({ status: 401, text: status(401, 'Unauthorized', 'Unauthorized') })
    expect(await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps?dryRun=true`, { body: { metadata: { name: 'x' } } })).toMatchObject({
      status: 422, text: status(422, 'Invalid', 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"'),
    })
  })

  it('Forbidden in RBAC wording: named and unnamed, subresources, other API groups, non-resource paths', async () => {
    expect(await raw(sim, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { token: RUNNER, body: { metadata: { name: 'r' }, rules: [] } })).toMatchObject({
      status: 403,
      text: status(403, 'Forbidden', `roles.rbac.authorization.k8s.io is forbidden: User "${SA}" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "${NS}"`, { group: 'rbac.authorization.k8s.io', kind: 'roles' }),
    })
    expect(await raw(sim, 'GET', `/api/v1/namespaces/${NS}/secrets/some`, { token: RUNNER })).toMatchObject({ status: 404 })
    expect(await raw(sim, 'DELETE', '/api/v1/nodes/node-1', { token: RUNNER })).toMatchObject({
      status: 403, text: status(403, 'Forbidden', `nodes "node-1" is forbidden: User "${SA}" cannot delete resource "nodes" in API group "" at the cluster scope`, { name: 'node-1', kind: 'nodes' }),
    })
    expect((await raw(sim, 'GET', '/metrics', { token: RUNNER })).text).toBe(status(403, 'Forbidden', `forbidden: User "${SA}" cannot get path "/metrics"`))
  })

  it('a JSON patch that is not a list of operations is a 400, as the decoder words it', async () => {
    const r = await raw(sim, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/dup`, { body: { data: { a: 'b' } }, headers: { 'Content-Type': 'application/json-patch+json' } })
    expect(r).toMatchObject({ status: 400, text: status(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch') })
  })

  it('an expired continue token is 410 Expired in the API server\'s words', async () => {
    expect(await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps?limit=1&continue=not-a-token`)).toMatchObject({
      status: 410, text: status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'),
    })
  })

  it('metadata-only lists and gets (PartialObjectMetadata) carry no data', async () => {
    await raw(sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { body: { metadata: { name: 'meta-only', labels: { a: 'b' } }, data: { token: 'c2VjcmV0' } } })
    const list = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/secrets?labelSelector=a%3Db`, { headers: { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' } })
    const body = JSON.parse(list.text) as { kind: string; apiVersion: string; items: Array<Record<string, unknown>> }
    expect([body.kind, body.apiVersion]).toEqual(['PartialObjectMetadataList', 'meta.k8s.io/v1'])
    expect(body.items).toHaveLength(1)
    expect(Object.keys(body.items[0]!)).toEqual(['kind', 'apiVersion', 'metadata'])
    expect(body.items[0]).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'meta-only', labels: { a: 'b' } } })
    expect(list.text).not.toContain('c2VjcmV0')
    const one = JSON.parse((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/secrets/meta-only`, { headers: { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' } })).text) as Record<string, unknown>
    expect(Object.keys(one)).toEqual(['kind', 'apiVersion', 'metadata'])
  })
})

describe('access reviews and impersonation', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('SelfSubjectAccessReview gives RBAC\'s reason; SubjectAccessReview answers for another subject; the runner may not ask about others', async () => {
    const authz = clients(sim, 'runner').kc.makeApiClient(AuthorizationV1Api)
    const self = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb: 'create', resource: 'pods', subresource: 'attach' } } } })
    expect(self.status).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "gitlab-runner/gitlab-runner" of Role "gitlab-runner" to ServiceAccount "gitlab-runner/gitlab-runner"' })
    const denied = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb: 'get', resource: 'pods', subresource: 'portforward' } } } })
    expect(denied.status).toEqual({ allowed: false })
    const admin = clients(sim).kc.makeApiClient(AuthorizationV1Api)
    const sar = await admin.createSubjectAccessReview({ body: { spec: { user: SA, resourceAttributes: { namespace: NS, verb: 'get', resource: 'pods', subresource: 'log' } } } })
    expect(sar.status?.allowed).toBe(true)
    const sarNo = await admin.createSubjectAccessReview({ body: { spec: { user: SA, resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods', subresource: 'log' } } } })
    expect(sarNo.status?.allowed).toBe(false)
    await expect(authz.createSubjectAccessReview({ body: { spec: { user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } } } })).rejects.toMatchObject({ code: 403 })
  })

  it('SelfSubjectRulesReview lists the rules bound in the namespace plus every user\'s basics', async () => {
    const authz = clients(sim, 'runner').kc.makeApiClient(AuthorizationV1Api)
    const rules = await authz.createSelfSubjectRulesReview({ body: { spec: { namespace: NS } } })
    expect(rules.status?.incomplete).toBe(false)
    const res = (rules.status?.resourceRules ?? []).map((r) => `${r.verbs.join(',')} ${(r.resources ?? []).join(',')}`)
    expect(res).toContain('create selfsubjectaccessreviews,selfsubjectrulesreviews')
    expect(res).toContain('create,get,delete,list,watch pods')
    expect(res).toContain('create,get,delete,patch pods/exec,pods/attach')
    expect(rules.status?.nonResourceRules?.[0]?.nonResourceURLs).toContain('/version')
    const elsewhere = await authz.createSelfSubjectRulesReview({ body: { spec: { namespace: 'default' } } })
    expect((elsewhere.status?.resourceRules ?? []).flatMap((r) => r.resources ?? [])).toEqual(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews'])
  })

  it('impersonation: the admin acts as the runner\'s service account; the runner may not impersonate anyone', async () => {
    const asRunner = await raw(sim, 'GET', '/api/v1/nodes', { headers: { 'Impersonate-User': SA } })
    expect(asRunner.text).toBe(status(403, 'Forbidden', `nodes is forbidden: User "${SA}" cannot list resource "nodes" in API group "" at the cluster scope`, { kind: 'nodes' }))
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods`, { headers: { 'Impersonate-User': SA } })).status).toBe(200)
    expect(await raw(sim, 'GET', '/api/v1/nodes', { token: RUNNER, headers: { 'Impersonate-User': 'alice' } })).toMatchObject({
      status: 403, text: status(403, 'Forbidden', `users "alice" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`, { name: 'alice', kind: 'users' }),
    })
    expect(sim.audit.filter((e) => e.path === '/api/v1/nodes').map((e) => `${e.user} ${e.code}`)).toEqual([`${SA} 403`, `${SA} 403`])
  })
})

describe('admission knobs: webhooks by their rules and selectors, failurePolicy, sideEffects, slow webhooks and the request timeout', () => {
  const webhook = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name, admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 10,
    clientConfig: { service: { namespace: 'policy-system', name: name.split('.')[0], path: '/validate' } },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], ...extra,
  })
  let sim: Sim | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })

  it('unreachable: Fail refuses with the call error, Ignore lets the object in; selectors decide which objects a webhook sees', async () => {
    sim = await start(withKnobs({ webhooks: { 'down.example.com': { behavior: 'unreachable' }, 'lenient.example.com': { behavior: 'unreachable' }, 'picky.example.com': { behavior: 'deny', message: 'no' } } }, [
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'w' }, webhooks: [
        webhook('down.example.com', { objectSelector: { matchLabels: { guarded: 'yes' } } }),
        webhook('lenient.example.com', { failurePolicy: 'Ignore' }),
        webhook('picky.example.com', { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['default'] }] } }),
      ] },
    ]))
    const cause = 'failed calling webhook "down.example.com": failed to call webhook: Post "https://down.policy-system.svc:443/validate?timeout=10s": dial tcp 10.96.12.34:443: connect: connection refused'
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'g', labels: { guarded: 'yes' } } } })).text).toBe(status(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] }))
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'free' } } })).status).toBe(201)
    expect((await raw(sim, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'd' } } })).text).toBe(status(400, undefined, 'admission webhook "picky.example.com" denied the request: no'))
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { body: { metadata: { name: 'not-a-configmap', labels: { guarded: 'yes' } } } })).status).toBe(201)
  })

  it('dryRun=All is refused for webhooks with side effects, whatever their failurePolicy', async () => {
    sim = await start(withKnobs({}, [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'm' }, webhooks: [webhook('effects.example.com', { sideEffects: 'Unknown', failurePolicy: 'Ignore' })] }]))
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps?dryRun=All`, { body: { metadata: { name: 'x' } } })).text).toBe(status(400, 'BadRequest', 'admission webhook "effects.example.com" does not support dry run'))
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'x' } } })).status).toBe(201)
  })

  it('a slow webhook delays the answer; past the request\'s timeout the API server answers 504; past its own timeoutSeconds it fails', async () => {
    const scenario = withKnobs({ clockFactor: 0.01, webhooks: { 'slow.example.com': { behavior: 'allow', delayMs: 5000 }, 'slower.example.com': { behavior: 'allow', delayMs: 20_000 } } }, [
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'w' }, webhooks: [webhook('slow.example.com'), webhook('slower.example.com', { objectSelector: { matchLabels: { slower: 'yes' } } })] },
    ])
    sim = await start(scenario)
    const t0 = performance.now()
    expect((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'slow' } } })).status).toBe(201)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(5000 * 0.01 - 1)
    expect(await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps?timeout=2s`, { body: { metadata: { name: 'too-slow' } } })).toMatchObject({
      status: 504, text: status(504, 'Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded', {}),
    })
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps/too-slow`)).status).toBe(404)
    expect(JSON.parse((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 's', labels: { slower: 'yes' } } } })).text)).toMatchObject({
      code: 500, reason: 'InternalError', message: 'Internal error occurred: failed calling webhook "slower.example.com": failed to call webhook: Post "https://slower.policy-system.svc:443/validate?timeout=10s": context deadline exceeded',
    })
  })
})

describe('LimitRange defaults, policy engines, scheduling by affinity and resources, exec over v4', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start(withKnobs({ policies: [{ engine: 'kyverno', kind: 'readOnlyRootFilesystem', name: 'require-ro-rootfs' }] }, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'limited' } },
      { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults', namespace: 'limited' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }] } },
    ]))
  })
  afterAll(async () => {
    await sim?.stop()
  })
  const ro = { readOnlyRootFilesystem: true }

  it('LimitRange defaults fill in what a container does not set and are recorded in the limit-ranger annotation (dry-run too)', async () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare' }, spec: { containers: [{ name: 'main', image: 'alpine', securityContext: ro, resources: { requests: { memory: '64Mi' } } }] } }
    const dry = JSON.parse((await raw(sim, 'POST', '/api/v1/namespaces/limited/pods?dryRun=All', { body })).text) as V1Pod
    expect(dry.spec!.containers[0]!.resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '64Mi' } })
    expect(dry.metadata!.annotations).toEqual({ 'kubernetes.io/limit-ranger': 'LimitRanger plugin set: cpu, memory limit for container main; cpu request for container main' })
    expect(dry.metadata!.resourceVersion).toBeUndefined()
    expect((await raw(sim, 'GET', '/api/v1/namespaces/limited/pods/bare')).status).toBe(404)
  })

  it('Kyverno words a read-only root filesystem rejection its own way (no reason, 400)', async () => {
    const body = { metadata: { name: 'rw' }, spec: { containers: [{ name: 'ok', image: 'alpine', securityContext: ro }, { name: 'writable', image: 'alpine' }] } }
    const r = await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods?dryRun=All`, { body })
    expect(r.text).toBe(status(400, undefined, `admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/${NS}/rw was blocked due to the following policies \n\nrequire-ro-rootfs:\n  validate-readOnlyRootFilesystem: 'validation error: Root filesystem must be read-only. rule validate-readOnlyRootFilesystem failed at path /spec/containers/1/securityContext/readOnlyRootFilesystem/'`))
  })

  it('the scheduler honours required node affinity and allocatable resources', async () => {
    const { core } = clients(sim)
    const mk = (name: string, spec: Partial<NonNullable<V1Pod['spec']>>, cpu = '10m'): V1Pod => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'alpine', securityContext: ro, stdin: true, resources: { requests: { cpu, memory: '16Mi' } } }], ...spec } })
    const term = (operator: string, values?: string[]): NonNullable<V1Pod['spec']>['affinity'] => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator, ...(values ? { values } : {}) }] }] } } })
    await core.createNamespacedPod({ namespace: NS, body: mk('arm-only', { affinity: term('In', ['arm64']) }) })
    await core.createNamespacedPod({ namespace: NS, body: mk('not-arm', { affinity: term('NotIn', ['arm64']) }) })
    await core.createNamespacedPod({ namespace: NS, body: mk('greedy', {}, '9') })
    const why = async (name: string): Promise<string | undefined> => {
      const p = await core.readNamespacedPod({ name, namespace: NS })
      return p.spec!.nodeName ?? p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message
    }
    await expect.poll(() => why('arm-only')).toBe("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    await expect.poll(() => why('not-arm')).toBe('node-1')
    await expect.poll(() => why('greedy')).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.')
  })

  it('exec negotiates v4.channel.k8s.io when the client offers only that, with the status on channel 3', async () => {
    const { core } = clients(sim)
    await core.createNamespacedPod({ namespace: NS, body: pod('v4', [{ name: 'c', image: 'alpine', securityContext: ro, stdin: true, resources: small }]) })
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'v4', namespace: NS })).status?.phase).toBe('Running')
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(`${sim.url.replace('https', 'wss')}/api/v1/namespaces/${NS}/pods/v4/exec?container=c&command=sh&command=-c&command=echo%20hi%3B%20exit%202&stdout=true&stderr=true`, ['v4.channel.k8s.io'], { ca: sim.caPem, headers: { Authorization: `Bearer ${ADMIN}` } })
    const frames: string[] = []
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer) => frames.push(`${d[0]}:${d.subarray(1).toString()}`))
      ws.on('close', () => resolve())
      ws.on('error', reject)
    })
    expect(ws.protocol).toBe('v4.channel.k8s.io')
    expect(frames.filter((f) => f !== '1:')).toEqual(['1:hi\n', `3:${JSON.stringify({ metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [sh -c echo hi; exit 2], exit code 2', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } })}`])
  })
})

describe('faults', () => {
  let sim: Sim | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })

  it('429 is plain text with Retry-After; 503 carries Retry-After; timeouts are 504; rates are per verb and resource', async () => {
    sim = await start(withKnobs({ faults: [{ match: 'list pods', rate: 1, kind: 'throttle' }, { match: 'get configmaps', rate: 1, kind: 'unavailable' }, { match: 'create secrets', rate: 0.5, kind: 'timeout' }] }))
    const throttled = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods`)
    expect([throttled.status, throttled.headers['content-type'], throttled.headers['retry-after'], throttled.headers['x-content-type-options'], throttled.text]).toEqual([429, 'text/plain; charset=utf-8', '1', 'nosniff', 'Too many requests, please try again later.\n'])
    expect((await raw(sim, 'GET', `/api/v1/namespaces/${NS}/secrets`)).status).toBe(200)
    const gone = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/configmaps/x`)
    expect([gone.status, gone.headers['retry-after'], gone.text]).toEqual([503, '1', status(503, 'ServiceUnavailable', 'apiserver is shutting down')])
    const codes: number[] = []
    for (let i = 0; i < 4; i++) codes.push((await raw(sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { body: { metadata: { name: `s${i}` } } })).status)
    expect(codes).toEqual([201, 504, 201, 504])
  })

  it('connection resets, and an API server that goes away after N requests', async () => {
    sim = await start(withKnobs({ faults: [{ match: 'delete *', rate: 1, kind: 'reset' }], goAwayAfter: 3 }))
    expect((await raw(sim, 'GET', '/version')).status).toBe(200)
    await expect(raw(sim, 'DELETE', `/api/v1/namespaces/${NS}/configmaps/x`)).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect((await raw(sim, 'GET', '/api')).status).toBe(200)
    await expect(raw(sim, 'GET', '/version')).rejects.toMatchObject({ code: 'ECONNRESET' })
    // Gone: the port no longer accepts connections, so nothing more reaches the audit log.
    await expect(raw(sim, 'GET', '/version')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(sim.audit.map((e) => `${e.method} ${e.path} ${e.code}`)).toEqual(['GET /version 200', `DELETE /api/v1/namespaces/${NS}/configmaps/x -1`, 'GET /api 200', 'GET /version -1'])
  })

  it('per-request latency (knob or --latency) delays every answer', async () => {
    sim = await start('healthy', { latencyMs: 40 })
    const t0 = performance.now()
    await raw(sim, 'GET', '/version')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(39)
  })
})

describe('the client library\'s streaming calls: watch bookmarks, exec, attach, logs with follow, OOM kills', () => {
  let sim: Sim
  let kc: KubeConfig
  let core: CoreV1Api
  beforeAll(async () => {
    sim = await start(withKnobs({ clockFactor: 0.001, oomKill: { match: ['hungry'], afterMs: 1_000_000 } }))
    ;({ kc, core } = clients(sim))
  })
  afterAll(async () => {
    await sim?.stop()
  })
  const running = async (name: string): Promise<void> => {
    await expect.poll(async () => (await core.readNamespacedPod({ name, namespace: NS })).status?.phase).toBe('Running')
  }

  it('a watch that asks for bookmarks gets them, carrying the current resourceVersion', async () => {
    const events: Array<{ type: string; rv?: string }> = []
    const req = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { allowWatchBookmarks: true }, (type, obj: { metadata?: { resourceVersion?: string } }) => events.push({ type, rv: obj.metadata?.resourceVersion }), () => undefined)
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'marked' } } })
    // A bookmark may come before the ADDED event on a busy machine: wait for one after it.
    const addedAt = (): number => events.findIndex((e) => e.type === 'ADDED')
    await expect.poll(() => addedAt() >= 0 && events.slice(addedAt()).some((e) => e.type === 'BOOKMARK')).toBe(true)
    req.abort()
    const added = events[addedAt()]!
    const bookmark = events.slice(addedAt()).find((e) => e.type === 'BOOKMARK')!
    expect(Number(bookmark.rv)).toBeGreaterThanOrEqual(Number(added.rv))
  })

  it('a watch with a label selector sees an object leave (DELETED) and come back (ADDED) when its labels change', async () => {
    const seen: string[] = []
    const req = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { labelSelector: 'team=a' }, (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`), () => undefined)
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'moving', labels: { team: 'a' } } } })
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
    await core.patchNamespacedConfigMap({ name: 'moving', namespace: NS, body: { metadata: { labels: { team: 'b' } } } }, merge)
    await core.patchNamespacedConfigMap({ name: 'moving', namespace: NS, body: [{ op: 'add', path: '/data', value: { unseen: 'yes' } }] })
    await core.patchNamespacedConfigMap({ name: 'moving', namespace: NS, body: { metadata: { labels: { team: 'a' } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))
    expect((await core.readNamespacedConfigMap({ name: 'moving', namespace: NS })).data).toEqual({ unseen: 'yes' })
    await core.deleteNamespacedConfigMap({ name: 'moving', namespace: NS })
    await expect.poll(() => seen).toEqual(['ADDED moving', 'DELETED moving', 'ADDED moving', 'DELETED moving'])
    req.abort()
  })

  it('exec: output on stdout and stderr, the exit code in the status', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('shell', [{ name: 'main', image: 'alpine:3.20', stdin: true, resources: small }]) })
    await running('shell')
    const out = sink()
    const err = sink()
    const done = new Promise<V1Status>((resolve, reject) => void new Exec(kc).exec(NS, 'shell', 'main', ['sh', '-c', 'echo out; echo err >&2; exit 4'], out, err, null, false, resolve).catch(reject))
    const st = await done
    expect(st).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } })
    await expect.poll(() => [out.text, err.text]).toEqual(['out\n', 'err\n'])
  })

  it('attach: what is written to stdin runs in the container\'s shell', async () => {
    const stdin = new PassThrough()
    const out = sink()
    const ws = await new Attach(kc).attach(NS, 'shell', 'main', out, null, stdin, false)
    stdin.write('echo attached to $HOSTNAME\n')
    await expect.poll(() => out.text).toBe('attached to shell\n')
    ws.close()
  })

  it('pods/log: follow streams new output until the container ends; tailLines', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('talker', [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'echo one; echo two; while [ ! -f go ]; do sleep 0.02; done; echo three'], resources: small }]) })
    await running('talker')
    const created = await core.readNamespacedPod({ name: 'talker', namespace: NS })
    const out = sink()
    // client-node 1.x never calls a done callback: the piped stream finishing is the end of the log.
    const ended = new Promise<void>((resolve) => out.on('finish', () => resolve()))
    await new Log(kc).log(NS, 'talker', 'main', out, { follow: true })
    await expect.poll(() => out.text).toBe('one\ntwo\n')
    writeFileSync(path.join(podDir(created as unknown as Obj), 'go'), '')
    await ended
    expect(out.text).toBe('one\ntwo\nthree\n')
    expect(await core.readNamespacedPodLog({ name: 'talker', namespace: NS, tailLines: 2 })).toBe('two\nthree\n')
    expect(existsSync(path.join(podDir(created as unknown as Obj), 'go'))).toBe(true)
  })

  it('oomKill: the container ends OOMKilled (137), its exec session ends with it, and new execs are refused', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('hungry', [{ name: 'eater', image: 'hungry:1', stdin: true, resources: small }, { name: 'side', image: 'alpine:3.20', stdin: true, resources: small }]) })
    await running('hungry')
    // The kill comes 1 s (scenario clock) after the start: time enough to open the session first.
    const session = new Promise<V1Status>((resolve, reject) => void new Exec(kc).exec(NS, 'hungry', 'eater', ['sh', '-c', 'echo started; cat'], sink(), sink(), new PassThrough(), false, resolve).catch(reject))
    expect(await session).toMatchObject({ reason: 'NonZeroExitCode', details: { causes: [{ message: '137' }] } })
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'hungry', namespace: NS })).status?.containerStatuses?.find((c) => c.name === 'eater')?.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' })
    const after = await core.readNamespacedPod({ name: 'hungry', namespace: NS })
    expect(after.status?.phase).toBe('Running')
    expect(after.status?.containerStatuses?.find((c) => c.name === 'side')?.state?.running).toBeDefined()
    const refused = await raw(sim, 'GET', `/api/v1/namespaces/${NS}/pods/hungry/exec?container=eater&command=true&stdout=true`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' } })
    expect(refused).toMatchObject({ status: 400, text: status(400, 'BadRequest', 'unable to upgrade connection: container not found ("eater")') })
  })
})

describe('the audit log', () => {
  it('records identity, verb, resource, namespace, name, dryRun and the answer\'s code of every request', async () => {
    const sim = await start('healthy')
    try {
      await raw(sim, 'POST', `/api/v1/namespaces/${NS}/configmaps?dryRun=All`, { token: RUNNER, body: { metadata: { name: 'a' } } })
      await raw(sim, 'POST', `/api/v1/namespaces/${NS}/pods`, { token: RUNNER, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'alpine', resources: small }] } } })
      await raw(sim, 'DELETE', `/api/v1/namespaces/${NS}/pods/p`, { token: RUNNER })
      expect(sim.audit.map(({ user, verb, resource, namespace, name, dryRun, code }) => ({ user, verb, resource, namespace, name, dryRun, code }))).toEqual([
        { user: SA, verb: 'create', resource: 'configmaps', namespace: NS, name: undefined, dryRun: true, code: 403 },
        { user: SA, verb: 'create', resource: 'pods', namespace: NS, name: 'p', dryRun: false, code: 201 },
        { user: SA, verb: 'delete', resource: 'pods', namespace: NS, name: 'p', dryRun: false, code: 200 },
      ])
      expect(sim.writes().map((e) => `${e.verb} ${e.resource}`)).toEqual(['create pods', 'delete pods'])
    } finally {
      await sim.stop()
    }
  })
})
