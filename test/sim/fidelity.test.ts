/**
 * Issue 16's remaining divergences: /openapi/v2 (kubectl's client-side validation of a v1 List, from
 * the protobuf document kubectl asks for) and the impersonation filter's refusals.
 */
import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { buildDefinitions, modelClass } from '../../src/sim/openapi-v2.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { Authorizer, impersonated } from '../../src/sim/rbac.js'
import { Store, type Obj } from '../../src/sim/store.js'
import { resourceForKind } from '../../src/sim/resources.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'
import { admitPodSecurity, describeViolations, violations } from '../../src/sim/pod-security.js'

interface Reply { status: number; type: string; body: Buffer }
function raw(sim: Sim, p: string, headers: Record<string, string | string[]>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { ca: sim.caPem, headers: { Authorization: 'Bearer sim-admin-token', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

let sim: Sim
beforeAll(async () => {
  sim = await start(loadScenario('healthy'))
})
afterAll(async () => {
  await sim?.stop()
})

describe('/openapi/v2', () => {
  it('answers kubectl\'s protobuf Accept with gnostic protobuf, others with JSON naming every served kind', async () => {
    const pb = await raw(sim, '/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' })
    expect(pb.status).toBe(200)
    expect(pb.type).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf')
    // Document.swagger (field 1) = "2.0"
    expect([...pb.body.subarray(0, 5)]).toEqual([0x0a, 3, 0x32, 0x2e, 0x30])
    const json = await raw(sim, '/openapi/v2', { Accept: 'application/json' })
    const doc = JSON.parse(json.body.toString()) as { swagger: string; definitions: Record<string, { 'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }> }> }
    expect(doc.swagger).toBe('2.0')
    const kinds = Object.values(doc.definitions).flatMap((d) => d['x-kubernetes-group-version-kind'] ?? []).map((g) => `${g.group}/${g.version}/${g.kind}`)
    // Every served kind client-node has a model for (not the policy engines' custom resources).
    const served = RESOURCES.filter((r) => !/gatekeeper|kyverno/.test(r.group)).map((r) => `${r.group}/${r.version}/${r.kind}`)
    expect(kinds.sort()).toEqual([...new Set(served)].sort())
  })

  it('names definitions as the API server does and types fields from the client models', () => {
    const defs = buildDefinitions()
    expect(modelClass(RESOURCES.find((r) => r.group === 'events.k8s.io')!)).toBe('EventsV1Event')
    expect(defs['io.k8s.api.core.v1.Container']!.properties!.command).toEqual({ type: 'array', items: { type: 'string' } })
    expect(defs['io.k8s.api.core.v1.ConfigMap']!.properties!.metadata).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' })
    expect(defs['io.k8s.api.batch.v1.JobSpec']!.properties!.template).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.PodTemplateSpec' })
    expect(defs['io.k8s.api.core.v1.ContainerPort']!.properties!.containerPort).toEqual({ type: 'integer', format: 'int32' })
  })

  it.runIf(hasKubectl)('kubectl create -f of a v1 List validates without --validate=false, and reports what is wrong in a bad one', async () => {
    const list = (items: unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
    const good = await kubectl(sim.kubeconfig, ['create', '-f', '-'], list([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'list-a', namespace: 'default' }, data: { a: 'b' } }]))
    expect(good.stdout + good.stderr).toBe('configmap/list-a created\n')
    const bad = await kubectl(sim.kubeconfig, ['create', '-f', '-'], list([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'list-b', namespace: 'default' }, foo: 1 },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'list-c', namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'x', command: 5 }] } },
    ]))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('error: error validating "STDIN": error validating data: [ValidationError(ConfigMap): unknown field "foo" in io.k8s.api.core.v1.ConfigMap, ValidationError(Pod.spec.containers[0].command): invalid type for io.k8s.api.core.v1.Container.command: got "integer", expected "array"]; if you choose to ignore these errors, turn validation off with --validate=false\n')
    await kubectl(sim.kubeconfig, ['delete', 'configmap', 'list-a', '-n', 'default'])
  })
})

describe('impersonation headers', () => {
  const refused = (msg: string): Record<string, unknown> => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${msg}`, reason: 'InternalError', details: { causes: [{ message: msg }] }, code: 500 })

  it('groups, a uid or extras without Impersonate-User are refused as the impersonation filter refuses them', async () => {
    const g = await raw(sim, '/api/v1/namespaces', { 'Impersonate-Group': ['devs', 'ops'] })
    expect(g.status).toBe(500)
    expect(JSON.parse(g.body.toString())).toEqual(refused('requested [{Group  devs    } {Group  ops    }] without impersonating a user'))
    const u = await raw(sim, '/api/v1/namespaces', { 'Impersonate-Uid': 'u-1' })
    expect(JSON.parse(u.body.toString())).toEqual(refused('requested [{UID  u-1  authentication.k8s.io/v1  }] without impersonating a user'))
    const e = await raw(sim, '/api/v1/namespaces', { 'Impersonate-Extra-Scopes': 'view' })
    expect(JSON.parse(e.body.toString())).toEqual(refused('requested [{UserExtra  view  authentication.k8s.io/v1  scopes}] without impersonating a user'))
    expect(sim.bugs()).toEqual([])
  })

  it('with a user, the uid and every extra need impersonate in authentication.k8s.io', async () => {
    const store = new Store()
    for (const o of [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'imp' }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }, { apiGroups: ['authentication.k8s.io'], resources: ['userextras/scopes'], verbs: ['impersonate'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'imp' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'imp' }, subjects: [{ kind: 'User', name: 'bob' }] },
    ] as Obj[]) store.create(resourceForKind(o.apiVersion!, o.kind!)!, undefined, o)
    const authz = new Authorizer(store)
    const bob = { name: 'bob', groups: ['system:authenticated'] }
    expect(impersonated(authz, bob, 'alice', [], { extras: [['scopes', 'view']] })).toEqual({ name: 'alice', groups: ['system:authenticated'] })
    expect(impersonated(authz, bob, 'alice', [], { extras: [['other', 'x']] })).toMatchObject({ resource: 'userextras', name: 'x', denied: { group: 'authentication.k8s.io', resource: 'userextras', subresource: 'other' } })
    expect(impersonated(authz, bob, 'alice', [], { uid: 'u-1' })).toMatchObject({ resource: 'uids', name: 'u-1', denied: { group: 'authentication.k8s.io', resource: 'uids' } })
  })

  it('a cluster admin may impersonate a user with a uid and extras', async () => {
    const r = await raw(sim, '/api/v1/namespaces', { 'Impersonate-User': 'alice', 'Impersonate-Group': 'system:masters', 'Impersonate-Uid': 'u-1', 'Impersonate-Extra-Scopes': 'view' })
    expect(r.status).toBe(200)
  })
})

describe('OOM-killed containers restart per restartPolicy', () => {
  let oomSim: Sim
  beforeAll(async () => {
    const s = loadScenario('healthy')
    // 5 s after each start on a clock 1000× fast: a few ms of real time per run.
    s.knobs = { ...s.knobs, clockFactor: 0.001, oomKill: { match: ['memory-hog'], afterMs: 5000 } }
    oomSim = await start(s)
  })
  afterAll(async () => {
    await oomSim?.stop()
  })

  const podOf = async (name: string): Promise<{ status: { phase?: string; containerStatuses?: Array<Record<string, unknown> & { restartCount?: number; state?: Record<string, Record<string, unknown>>; lastState?: Record<string, Record<string, unknown>> }> } }> => {
    const r = await raw(oomSim, `/api/v1/namespaces/gitlab-runner/pods/${name}`, { Accept: 'application/json' })
    return JSON.parse(r.body.toString())
  }
  const create = (name: string, restartPolicy: string): Promise<unknown> => new Promise((resolve, reject) => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy, containers: [{ name: 'hog', image: 'memory-hog:1', command: ['sh', '-c', 'sleep 30'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } })
    const req = request(new URL('/api/v1/namespaces/gitlab-runner/pods', oomSim.url), { method: 'POST', ca: oomSim.caPem, headers: { Authorization: 'Bearer sim-admin-token', 'Content-Type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 201 ? resolve(undefined) : reject(new Error(`create ${name}: ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(body)
  })

  it('Always: OOMKilled (137) in lastState, a growing restartCount, CrashLoopBackOff between runs', async () => {
    await create('hog-always', 'Always')
    await expect.poll(async () => (await podOf('hog-always')).status.containerStatuses?.[0]?.restartCount ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
    const s = (await podOf('hog-always')).status.containerStatuses![0]!
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' })
    await expect.poll(async () => (await podOf('hog-always')).status.containerStatuses?.[0]?.state?.waiting?.reason, { timeout: 10_000 }).toBe('CrashLoopBackOff')
    expect((await podOf('hog-always')).status.phase).toBe('Running')
  })

  it('Never: the container stays terminated OOMKilled and the pod fails', async () => {
    await create('hog-never', 'Never')
    await expect.poll(async () => (await podOf('hog-never')).status.phase, { timeout: 10_000 }).toBe('Failed')
    const s = (await podOf('hog-never')).status.containerStatuses![0]!
    expect(s.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' })
    expect(s.restartCount ?? 0).toBe(0)
    expect(oomSim.bugs()).toEqual([])
  })
})

describe('Pod Security: the AppArmor control', () => {
  const baseline = { level: 'baseline' as const, version: 'latest', minor: 33 }
  const AA = 'container.apparmor.security.beta.kubernetes.io/'

  it('baseline allows runtime/default and localhost/* (annotation and field), refuses anything else, worded as the plugin words it', () => {
    const ok = { containers: [{ name: 'build', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }] }
    expect(violations(ok, baseline, { [`${AA}build`]: 'runtime/default', [`${AA}helper`]: 'localhost/foo', [`${AA}svc`]: '' })).toEqual([])
    expect(describeViolations(violations({ containers: [{ name: 'build' }] }, baseline, { [`${AA}build`]: 'unconfined' })))
      .toBe(`forbidden AppArmor profile (${AA}build="unconfined")`)
    expect(describeViolations(violations({ securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [{ name: 'a', securityContext: { appArmorProfile: { type: 'Unconfined' } } }, { name: 'b' }] }, baseline)))
      .toBe('forbidden AppArmor profile (pod and container "a" must not set AppArmor profile type to "Unconfined")')
    expect(describeViolations(violations({ containers: [{ name: 'foo', securityContext: { appArmorProfile: { type: 'Unconfined' } } }] }, baseline, { [`${AA}e`]: 'unconfined', [`${AA}f`]: 'unknown' })))
      .toBe(`forbidden AppArmor profiles (${AA}e="unconfined", ${AA}f="unknown", container "foo" must not set AppArmor profile type to "Unconfined")`)
  })

  it('enforce refuses a pod by its annotation; warn reads a workload template\'s annotations', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { [`${AA}build`]: 'unconfined' } }, spec: { containers: [{ name: 'build', image: 'x' }] } }
    expect(admitPodSecurity({ 'pod-security.kubernetes.io/enforce': 'baseline' }, 'pods', pod).forbidden)
      .toBe(`violates PodSecurity "baseline:latest": forbidden AppArmor profile (${AA}build="unconfined")`)
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { metadata: { annotations: { [`${AA}build`]: 'unconfined' } }, spec: { containers: [{ name: 'build', image: 'x' }] } } } }
    expect(admitPodSecurity({ 'pod-security.kubernetes.io/warn': 'baseline' }, 'jobs', job).warnings)
      .toEqual([`would violate PodSecurity "baseline:latest": forbidden AppArmor profile (${AA}build="unconfined")`])
  })
})

describe('Pod Security admission configuration: defaults and exemptions', () => {
  let psSim: Sim
  beforeAll(async () => {
    const s = loadScenario('healthy')
    s.knobs = { ...s.knobs, podSecurity: { defaults: { enforce: 'baseline', 'enforce-version': 'latest' }, exemptions: { usernames: ['ci-bot'], runtimeClasses: ['kata'], namespaces: ['ps-exempt'] } } }
    s.objects = [...s.objects, ...['ps-default', 'ps-exempt'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))]
    psSim = await start(s)
  })
  afterAll(async () => {
    await psSim?.stop()
  })

  const post = (ns: string, name: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> => new Promise((resolve, reject) => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...extra, containers: [{ name: 'c', image: 'alpine', securityContext: { privileged: true } }] } })
    const req = request(new URL(`/api/v1/namespaces/${ns}/pods?dryRun=All`, psSim.url), { method: 'POST', ca: psSim.caPem, headers: { Authorization: 'Bearer sim-admin-token', 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(body)
  })
  const lastAudit = (): Record<string, string> | undefined => psSim.audit.filter((e) => e.resource === 'pods' && e.verb === 'create').at(-1)?.annotations

  it('a namespace without labels gets the configured default level', async () => {
    const r = await post('ps-default', 'p1')
    expect(r.status).toBe(403)
    expect(r.body.message).toBe('pods "p1" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)')
  })

  it('exempt namespaces, usernames and runtime classes are not evaluated; the audit event says why', async () => {
    expect((await post('ps-exempt', 'p2')).status).toBe(201)
    expect(lastAudit()).toMatchObject({ 'pod-security.kubernetes.io/exempt': 'namespace' })
    expect((await post('ps-default', 'p3', {}, { 'Impersonate-User': 'ci-bot', 'Impersonate-Group': 'system:masters' })).status).toBe(201)
    expect(lastAudit()).toMatchObject({ 'pod-security.kubernetes.io/exempt': 'user' })
    expect((await post('ps-default', 'p4', { runtimeClassName: 'kata' })).status).toBe(201)
    expect(lastAudit()).toMatchObject({ 'pod-security.kubernetes.io/exempt': 'runtimeClass' })
    expect(psSim.bugs()).toEqual([])
  })
})

describe('protobuf bodies of kubectl\'s RBAC shortcuts', () => {
  it.runIf(hasKubectl)('kubectl create role / rolebinding / clusterrole / clusterrolebinding are decoded', async () => {
    const k = (args: string[]): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, args)
    expect((await k(['-n', 'default', 'create', 'role', 'pb-r', '--verb=get,list', '--resource=pods,configmaps', '--resource-name=x'])).stdout).toBe('role.rbac.authorization.k8s.io/pb-r created\n')
    expect(JSON.parse((await k(['-n', 'default', 'get', 'role', 'pb-r', '-o', 'json'])).stdout).rules).toEqual([{ apiGroups: [''], resources: ['pods', 'configmaps'], resourceNames: ['x'], verbs: ['get', 'list'] }])
    expect((await k(['-n', 'default', 'create', 'rolebinding', 'pb-rb', '--role=pb-r', '--serviceaccount=default:default', '--user=alice'])).code).toBe(0)
    const rb = JSON.parse((await k(['-n', 'default', 'get', 'rolebinding', 'pb-rb', '-o', 'json'])).stdout) as { subjects: unknown; roleRef: unknown }
    expect(rb.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default', namespace: 'default' }])
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pb-r' })
    expect((await k(['create', 'clusterrole', 'pb-cr', '--verb=get', '--non-resource-url=/healthz'])).code).toBe(0)
    expect(JSON.parse((await k(['get', 'clusterrole', 'pb-cr', '-o', 'json'])).stdout).rules).toEqual([{ nonResourceURLs: ['/healthz'], verbs: ['get'] }])
    expect((await k(['create', 'clusterrolebinding', 'pb-crb', '--clusterrole=pb-cr', '--user=bob'])).code).toBe(0)
    await k(['-n', 'default', 'delete', 'role/pb-r', 'rolebinding/pb-rb'])
    await k(['delete', 'clusterrole/pb-cr', 'clusterrolebinding/pb-crb'])
  })
})
