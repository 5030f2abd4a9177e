import { execFileSync, spawn } from 'node:child_process'
import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Scenario, type Sim } from '../../src/sim/index.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * Admission and write semantics as a real API server has them, seen through unmodified clients
 * (kubectl; the Python client where Debian's python3-kubernetes is installed): Pod Security
 * Admission's enforce/warn/audit with its wording, the ServiceAccount lookup, webhooks per
 * operation (PATCH and PUT are UPDATEs, DELETE has its own), ResourceQuota status that follows what
 * is created, strategic-merge directives interpreted (never stored), immutable pod fields, 409 on a
 * stale resourceVersion, server-side apply, `auth whoami`, `get all`, and the batch and
 * coordination groups.
 */

const PYTHON = '/usr/bin/python3'
const hasPythonClient: boolean = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** One request as the admin, with its answer's headers. */
function raw(sim: Sim, method: string, p: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { method, ca: sim.caPem, headers: { Authorization: 'Bearer sim-admin-token', Accept: 'application/json', 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

function python(kubeconfig: string, code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-c', code], { env: { ...process.env, KUBECONFIG: kubeconfig } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (c) => resolve({ code: c, stdout, stderr }))
  })
}

/** The namespaces the tests use, seeded with the scenario (kubectl calls are what the tests time). */
const NAMESPACES: Array<[string, Record<string, string>]> = [
  ['psa-enforce', { 'pod-security.kubernetes.io/enforce': 'restricted' }],
  ['psa-baseline', { 'pod-security.kubernetes.io/enforce': 'baseline' }],
  ['psa-old', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.22' }],
  ['psa-new', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.30' }],
  ['psa-warn', { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/audit': 'restricted' }],
  ['psa-raise', {}],
  ['quota', {}],
  ['everything', {}],
  ['psa-raw', { 'pod-security.kubernetes.io/warn': 'baseline' }],
]

const PRIVILEGED = (ns: string, name = 'dind'): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns} }
spec:
  initContainers:
    - { name: init-permissions, image: alpine:3.20 }
  containers:
    - name: build
      image: docker:27-dind
      securityContext: { privileged: true }
    - name: helper
      image: alpine:3.20
`

/** A pod that meets the restricted standard. */
const RESTRICTED_OK = (ns: string): string => `apiVersion: v1
kind: Pod
metadata: { name: tidy, namespace: ${ns} }
spec:
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: build
      image: alpine:3.20
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`

const RESTRICTED_VIOLATIONS = [
  'privileged (container "build" must not set securityContext.privileged=true)',
  'allowPrivilegeEscalation != false (containers "init-permissions", "build", "helper" must set securityContext.allowPrivilegeEscalation=false)',
  'unrestricted capabilities (containers "init-permissions", "build", "helper" must set securityContext.capabilities.drop=["ALL"])',
  'runAsNonRoot != true (pod or containers "init-permissions", "build", "helper" must set securityContext.runAsNonRoot=true)',
  'seccompProfile (pod or containers "init-permissions", "build", "helper" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
].join(', ')

function scenario(): Scenario {
  const s = loadScenario('healthy')
  for (const [name, labels] of NAMESPACES) s.objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } })
  s.objects.push({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'ci', namespace: 'quota' }, spec: { hard: { pods: '5', 'requests.cpu': '2', 'requests.memory': '2Gi', 'count/configmaps': '10' } } })
  s.objects.push({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'guards' },
    webhooks: [
      { name: 'frozen.example.com', sideEffects: 'None', objectSelector: { matchLabels: { guarded: 'yes' } }, clientConfig: { service: { name: 'guard', namespace: 'default', path: '/frozen' } }, rules: [{ operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }] },
      { name: 'keep.example.com', sideEffects: 'None', objectSelector: { matchLabels: { guarded: 'yes' } }, clientConfig: { service: { name: 'guard', namespace: 'default', path: '/keep' } }, rules: [{ operations: ['DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }] },
    ],
  } as Scenario['objects'][number])
  s.knobs.webhooks = {
    'frozen.example.com': { behavior: 'deny', message: 'guarded configmaps are frozen', code: 403, reason: 'Forbidden' },
    'keep.example.com': { behavior: 'deny', message: 'guarded configmaps are kept', code: 403, reason: 'Forbidden' },
  }
  return s
}

describe.runIf(hasKubectl)('admission and write semantics through kubectl', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start(scenario())
  })
  afterAll(async () => {
    expect(sim?.bugs()).toEqual([])
    await sim?.stop()
  })
  const k = (args: string[], input?: string): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, args, input)

  it('Pod Security enforce refuses a privileged pod in the API server\'s words; a compliant pod is admitted', async () => {
    const refused = await k(['apply', '-f', '-'], PRIVILEGED('psa-enforce'))
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(`Error from server (Forbidden): error when creating "STDIN": pods "dind" is forbidden: violates PodSecurity "restricted:latest": ${RESTRICTED_VIOLATIONS}`)
    const ok = await k(['apply', '-f', '-'], RESTRICTED_OK('psa-enforce'))
    expect([ok.code, ok.stdout.trim(), ok.stderr]).toEqual([0, 'pod/tidy created', ''])
  })

  it('Pod Security levels and versions: baseline lists only its controls; v1.22 knows no runAsUser control', async () => {
    const host = `apiVersion: v1\nkind: Pod\nmetadata: { name: host, namespace: psa-baseline }\nspec:\n  hostNetwork: true\n  hostPID: true\n  volumes: [{ name: docker-sock, hostPath: { path: /var/run/docker.sock } }]\n  containers:\n    - name: build\n      image: alpine:3.20\n      ports: [{ containerPort: 80, hostPort: 8080 }]\n      securityContext: { capabilities: { add: [NET_ADMIN, CHOWN] } }\n`
    const r = await k(['apply', '-f', '-'], host)
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): error when creating "STDIN": pods "host" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "build" must not include "NET_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "docker-sock"), hostPort (container "build" uses hostPort 8080)')
    const root = RESTRICTED_OK('psa-old').replace('runAsUser: 1000', 'runAsUser: 0')
    expect((await k(['apply', '-f', '-'], root)).code).toBe(0)
    const refused = await k(['apply', '-f', '-'], root.replace('psa-old', 'psa-new'))
    expect(refused.stderr.trim()).toBe('Error from server (Forbidden): error when creating "STDIN": pods "tidy" is forbidden: violates PodSecurity "restricted:v1.30": runAsUser=0 (pod must not set runAsUser=0)')
  })

  it('Pod Security warn: the pod is admitted and kubectl prints the Warning header; audit annotates the audit event', async () => {
    const r = await k(['apply', '-f', '-'], PRIVILEGED('psa-warn'))
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('pod/dind created')
    expect(r.stderr.trim()).toBe('Warning: would violate PodSecurity "baseline:latest": privileged (container "build" must not set securityContext.privileged=true)')
    const created = sim.audit.find((e) => e.verb === 'create' && e.namespace === 'psa-warn' && e.resource === 'pods')
    expect(created?.annotations).toEqual({
      'pod-security.kubernetes.io/enforce-policy': 'privileged:latest',
      'pod-security.kubernetes.io/audit-violations': `would violate PodSecurity "restricted:latest": ${RESTRICTED_VIOLATIONS}`,
    })
  })

  it('Pod Security labels: raising enforce warns about existing pods; a label that is no level is 422', async () => {
    await k(['apply', '-f', '-'], PRIVILEGED('psa-raise'))
    const raised = await k(['label', 'ns', 'psa-raise', 'pod-security.kubernetes.io/enforce=baseline'])
    expect(raised.code).toBe(0)
    expect(raised.stderr.trim().split('\n')).toEqual(['Warning: existing pods in namespace "psa-raise" violate the new PodSecurity enforce level "baseline:latest"', 'Warning: dind: privileged'])
    const bogus = await k(['label', 'ns', 'psa-raise', 'pod-security.kubernetes.io/enforce=strict', '--overwrite'])
    expect(bogus.stderr.trim()).toBe('The Namespace "psa-raise" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted')
  })

  it('a pod naming a missing service account is 403; one naming none runs as default', async () => {
    const r = await k(['run', 'nosa', '-n', 'default', '--image=alpine', '--overrides={"spec":{"serviceAccountName":"ci-jobs"}}'])
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods "nosa" is forbidden: error looking up service account default/ci-jobs: serviceaccount "ci-jobs" not found')
    expect((await k(['run', 'plain', '-n', 'default', '--image=alpine'])).code).toBe(0)
    expect((await k(['get', 'pod', 'plain', '-n', 'default', '-o', 'jsonpath={.spec.serviceAccountName}'])).stdout).toBe('default')
  })

  it('webhooks match per operation: a PATCH (kubectl label) is an UPDATE, a DELETE its own; CREATE passes both', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: guarded, namespace: default, labels: { guarded: "yes" } }\ndata: { a: "1" }\n'
    expect((await k(['apply', '-f', '-'], cm)).code).toBe(0)
    const patched = await k(['label', 'configmap', 'guarded', '-n', 'default', 'team=ci'])
    expect(patched.stderr.trim()).toBe('Error from server (Forbidden): admission webhook "frozen.example.com" denied the request: guarded configmaps are frozen')
    const unlabelled = await k(['label', 'configmap', 'guarded', '-n', 'default', 'guarded-'])
    expect(unlabelled.stderr.trim()).toBe('Error from server (Forbidden): admission webhook "frozen.example.com" denied the request: guarded configmaps are frozen')
    const replaced = await k(['replace', '-f', '-'], cm.replace('a: "1"', 'a: "2"'))
    expect(replaced.stderr.trim()).toBe('Error from server (Forbidden): error when replacing "STDIN": admission webhook "frozen.example.com" denied the request: guarded configmaps are frozen')
    const deleted = await k(['delete', 'configmap', 'guarded', '-n', 'default'])
    expect(deleted.stderr.trim()).toBe('Error from server (Forbidden): admission webhook "keep.example.com" denied the request: guarded configmaps are kept')
    // kubectl delete -l deletes one by one; a delete-collection request is admitted object by object too.
    const collection = await raw(sim, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=guarded%3Dyes')
    expect([collection.status, (JSON.parse(collection.text) as { message: string }).message]).toEqual([403, 'admission webhook "keep.example.com" denied the request: guarded configmaps are kept'])
    expect((await k(['get', 'configmap', 'guarded', '-n', 'default', '-o', 'jsonpath={.data.a}'])).stdout).toBe('1')
  })

  it('ResourceQuota status: describe quota shows usage grow as pods are created and shrink when they are deleted', async () => {
    const used = async (): Promise<string[]> => (await k(['describe', 'quota', 'ci', '-n', 'quota'])).stdout.split('\n').slice(4).filter(Boolean).map((l) => l.split(/\s+/).join(' '))
    expect(await used()).toEqual(['count/configmaps 0 10', 'pods 0 5', 'requests.cpu 0 2', 'requests.memory 0 2Gi'])
    const pod = (name: string): string => `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}, namespace: quota }\nspec:\n  containers:\n    - { name: build, image: alpine:3.20, resources: { requests: { cpu: 500m, memory: 256Mi } } }\n`
    await k(['apply', '-f', '-'], pod('job-1'))
    expect(await used()).toEqual(['count/configmaps 0 10', 'pods 1 5', 'requests.cpu 500m 2', 'requests.memory 256Mi 2Gi'])
    await k(['apply', '-f', '-'], pod('job-2'))
    await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c1, namespace: quota }\n')
    expect(await used()).toEqual(['count/configmaps 1 10', 'pods 2 5', 'requests.cpu 1 2', 'requests.memory 512Mi 2Gi'])
    expect((await k(['get', 'quota', '-n', 'quota'])).stdout).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\nci\s+\d+s\s+count\/configmaps: 1\/10, pods: 2\/5, requests.cpu: 1\/2, requests.memory: 512Mi\/2Gi\s*\n$/)
    await k(['delete', 'pod', 'job-1', '-n', 'quota', '--wait=false'])
    expect(await used()).toEqual(['count/configmaps 1 10', 'pods 1 5', 'requests.cpu 500m 2', 'requests.memory 256Mi 2Gi'])
  })

  it('a second kubectl apply of a changed configmap and pod leaves no $ directives; changing an immutable pod field is 422', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { a: "1", b: "2" }\n'
    await k(['apply', '-f', '-'], cm)
    expect((await k(['apply', '-f', '-'], cm.replace('a: "1", b: "2"', 'a: "3"'))).stdout.trim()).toBe('configmap/settings configured')
    expect(JSON.parse((await k(['get', 'cm', 'settings', '-n', 'default', '-o', 'json'])).stdout).data).toEqual({ a: '3' })
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: web, namespace: default }\nspec:\n  containers:\n    - name: main\n      image: alpine:3.20\n      env: [{ name: A, value: "1" }]\n    - name: side\n      image: alpine:3.20\n'
    await k(['apply', '-f', '-'], pod)
    expect((await k(['apply', '-f', '-'], pod.replace('image: alpine:3.20\n      env', 'image: alpine:3.21\n      env'))).stdout.trim()).toBe('pod/web configured')
    const stored = (await k(['get', 'pod', 'web', '-n', 'default', '-o', 'json'])).stdout
    expect(stored).not.toContain('$')
    expect((JSON.parse(stored) as { spec: { containers: Array<{ name: string; image: string }> } }).spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['main=alpine:3.21', 'side=alpine:3.20'])
    const changed = await k(['apply', '-f', '-'], pod.replace('value: "1"', 'value: "2"'))
    expect(changed.code).toBe(1)
    expect(changed.stderr.trim()).toBe('The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')
  })

  it('a stale resourceVersion on PUT (kubectl replace) and on a merge patch is 409 Conflict', async () => {
    await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: versioned, namespace: default }\ndata: { a: "1" }\n')
    const stale = (await k(['get', 'cm', 'versioned', '-n', 'default', '-o', 'yaml'])).stdout
    const rv = /resourceVersion: "(\d+)"/.exec(stale)![1]
    await k(['label', 'cm', 'versioned', '-n', 'default', 'x=y'])
    const replaced = await k(['replace', '-f', '-'], stale)
    expect(replaced.stderr.trim()).toBe('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "versioned": the object has been modified; please apply your changes to the latest version and try again')
    const patched = await k(['patch', 'cm', 'versioned', '-n', 'default', '--type=merge', '-p', JSON.stringify({ metadata: { resourceVersion: rv }, data: { b: '2' } })])
    expect(patched.stderr.trim()).toBe('Error from server (Conflict): Operation cannot be fulfilled on configmaps "versioned": the object has been modified; please apply your changes to the latest version and try again')
  })

  it('server-side apply creates and updates, recording the field manager', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ssa, namespace: default }\ndata: { a: "1" }\n'
    expect((await k(['apply', '--server-side', '-f', '-'], cm)).stdout.trim()).toBe('configmap/ssa serverside-applied')
    expect((await k(['apply', '--server-side', '-f', '-'], cm.replace('a: "1"', 'a: "2", b: "3"'))).stdout.trim()).toBe('configmap/ssa serverside-applied')
    expect((await k(['get', 'cm', 'ssa', '-n', 'default', '-o', 'jsonpath={.data} {.metadata.managedFields[*].manager}'])).stdout).toBe('{"a":"2","b":"3"} kubectl')
  })

  it('auth whoami, get all, and the batch, coordination and authentication groups in discovery', async () => {
    const who = await k(['auth', 'whoami', '-o', 'json'])
    expect(JSON.parse(who.stdout)).toMatchObject({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] } } })
    const runner = await kubectl(sim.kubeconfigFor('runner'), ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])
    expect(runner.stdout).toBe('system:serviceaccount:gitlab-runner:gitlab-runner')
    await k(['apply', '-f', '-'], 'apiVersion: batch/v1\nkind: Job\nmetadata: { name: nightly, namespace: everything }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: main, image: alpine:3.20 }]\n')
    await k(['apply', '-f', '-'], 'apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: hourly, namespace: everything }\nspec:\n  schedule: "0 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{ name: main, image: alpine:3.20 }]\n')
    await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: { name: db, namespace: everything }\nspec:\n  ports: [{ port: 5432 }]\n')
    await k(['apply', '-f', '-'], 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: { name: leader, namespace: everything }\nspec: { holderIdentity: runner-1 }\n')
    const all = await k(['get', 'all', '-n', 'everything', '-o', 'name'])
    // The Job's controller has given it its pod by now (the pod is in `all` too).
    expect(all.stdout.trim().split('\n').sort()).toEqual(['cronjob.batch/hourly', 'job.batch/nightly', expect.stringMatching(/^pod\/nightly-[b-z2-9]{5}$/), 'service/db'])
    expect((await k(['get', 'leases', '-n', 'everything', '-o', 'jsonpath={.items[*].spec.holderIdentity}'])).stdout).toBe('runner-1')
    const resources = (await k(['api-resources', '-o', 'name'])).stdout.split('\n')
    expect(resources).toEqual(expect.arrayContaining(['jobs.batch', 'cronjobs.batch', 'leases.coordination.k8s.io', 'selfsubjectreviews.authentication.k8s.io']))
  })

  it('events.k8s.io/v1 serves the core events in its own shape, both ways', async () => {
    await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Event\nmetadata: { name: core-1, namespace: default }\ninvolvedObject: { kind: Pod, name: web, namespace: default }\nreason: Tested\nmessage: from core\ntype: Normal\nsource: { component: tester }\n')
    await k(['apply', '-f', '-'], 'apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: { name: new-1, namespace: default }\nregarding: { kind: Pod, name: web, namespace: default }\nreason: Tested\nnote: from events.k8s.io\ntype: Warning\nreportingController: gkr.example.com/tester\nreportingInstance: tester-1\naction: Testing\neventTime: "2026-12-03T12:00:00.000000Z"\n')
    const v1 = JSON.parse((await k(['get', 'events.v1.events.k8s.io', '-n', 'default', '-o', 'json'])).stdout) as { items: Array<Record<string, unknown>> }
    expect(v1.items.filter((e) => e.reason === 'Tested').map((e) => [e.apiVersion, e.note, e.reportingController, (e.regarding as { name: string }).name])).toEqual([
      ['events.k8s.io/v1', 'from core', 'tester', 'web'],
      ['events.k8s.io/v1', 'from events.k8s.io', 'gkr.example.com/tester', 'web'],
    ])
    const core = JSON.parse((await k(['get', 'events.v1.', '-n', 'default', '--field-selector', 'reason=Tested', '-o', 'json'])).stdout) as { items: Array<Record<string, unknown>> }
    expect(core.items.map((e) => [e.apiVersion, e.message, e.reportingComponent ?? (e.source as { component?: string }).component])).toEqual([['v1', 'from core', 'tester'], ['v1', 'from events.k8s.io', 'gkr.example.com/tester']])
  })

  it('kubectl create namespace, configmap, secret and serviceaccount (protobuf bodies) are decoded and stored', async () => {
    expect((await k(['create', 'namespace', 'pb'])).stdout.trim()).toBe('namespace/pb created')
    expect((await k(['create', 'configmap', 'pbcm', '-n', 'pb', '--from-literal=a=1', '--from-literal=b=two'])).stdout.trim()).toBe('configmap/pbcm created')
    expect((await k(['create', 'secret', 'generic', 'pbs', '-n', 'pb', '--from-literal=pw=s3cret'])).stdout.trim()).toBe('secret/pbs created')
    expect((await k(['create', 'serviceaccount', 'pbsa', '-n', 'pb'])).stdout.trim()).toBe('serviceaccount/pbsa created')
    expect((await k(['create', 'secret', 'docker-registry', 'pull', '-n', 'pb', '--docker-server=r.example.com', '--docker-username=u', '--docker-password=p'])).stdout.trim()).toBe('secret/pull created')
    expect((await k(['get', 'secret', 'pull', '-n', 'pb', '-o', 'jsonpath={.type}'])).stdout).toBe('kubernetes.io/dockerconfigjson')
    expect((await k(['get', 'cm', 'pbcm', '-n', 'pb', '-o', 'jsonpath={.data}'])).stdout).toBe('{"a":"1","b":"two"}')
    expect((await k(['get', 'secret', 'pbs', '-n', 'pb', '-o', 'jsonpath={.type} {.data.pw}'])).stdout).toBe(`Opaque ${Buffer.from('s3cret').toString('base64')}`)
    expect((await k(['get', 'sa', '-n', 'pb', '-o', 'name'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['serviceaccount/default', 'serviceaccount/pbsa'])
    // Workload shortcuts too (test/sim/protobuf-workloads.test.ts has their fields).
    expect((await k(['create', 'job', 'pbj', '-n', 'pb', '--image=alpine'])).stdout).toBe('job.batch/pbj created\n')
  })

  it('the raw answer carries one Warning header per warning, as 299 with the text quoted', async () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'raw' }, spec: { containers: [{ name: 'build', image: 'alpine', securityContext: { privileged: true } }] } }
    const r = await raw(sim, 'POST', '/api/v1/namespaces/psa-raw/pods?dryRun=All', body)
    expect(r.status).toBe(201)
    expect(r.headers.warning).toBe('299 - "would violate PodSecurity \\"baseline:latest\\": privileged (container \\"build\\" must not set securityContext.privileged=true)"')
  })
})

describe.runIf(hasPythonClient)('the official Python client sees the same refusals', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('Pod Security and the service-account lookup answer 403 with the API server\'s Status', async () => {
    const code = `
import json
from kubernetes import client, config
config.load_kube_config()
v1 = client.CoreV1Api()
v1.create_namespace({"metadata": {"name": "py", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}})
def refusal(body):
    try:
        v1.create_namespaced_pod("py", body)
    except client.exceptions.ApiException as e:
        b = json.loads(e.body)
        return [e.status, b["reason"], b["message"]]
print(json.dumps([
    refusal({"metadata": {"name": "priv"}, "spec": {"containers": [{"name": "build", "image": "alpine", "securityContext": {"privileged": True}}]}}),
    refusal({"metadata": {"name": "nosa"}, "spec": {"serviceAccountName": "ci-jobs", "containers": [{"name": "build", "image": "alpine"}]}}),
]))
`
    const r = await python(sim.kubeconfig, code)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual([
      [403, 'Forbidden', 'pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "build" must not set securityContext.privileged=true)'],
      [403, 'Forbidden', 'pods "nosa" is forbidden: error looking up service account py/ci-jobs: serviceaccount "ci-jobs" not found'],
    ])
  })
})
