import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ApiException, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { ApiError, mapError } from '../../src/kube/errors.js'
import { resolveCluster } from '../../src/kube/connect.js'
import { reviewAccess } from '../../src/kube/access.js'
import { gatherFacts } from '../../src/kube/gather.js'
import { loadConfig } from '../../src/config/load.js'
import { renderJob } from '../../src/executor/render.js'
import { requiredPermissions } from '../../src/executor/permissions.js'
import { GkrError } from '../../src/util/errors.js'

describe('mapping client errors', () => {
  it('HTTP answers become ApiError from the Status body, never the raw client message', () => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 })
    const e = mapError(new ApiException(404, 'HTTP-Code: 404\nMessage: Unknown API Status Code!\nBody: …\nHeaders: {…}', body, {}), 'get pod')
    expect(e).toBeInstanceOf(ApiError)
    expect([(e as ApiError).status, (e as ApiError).reason, e.message]).toEqual([404, 'NotFound', 'pods "x" not found'])
  })

  it.each([
    ['ECONNREFUSED', 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', /refused the connection/],
    ['ENOTFOUND', 'dial-tcp-xxxxxxxxxx-io-timeout', /does not resolve/],
    ['ETIMEDOUT', 'dial-tcp-xxxxxxxxxx-io-timeout', /did not answer list pods in time/],
    ['ECONNRESET', 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', /dropped the connection/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', /TLS to the Kubernetes API server failed/],
  ])('%s → exit 3 with catalog %s', (code, ref, message) => {
    const e = mapError(Object.assign(new Error(`request failed, reason: ${code}`), { code }), 'list pods') as GkrError
    expect(e).toBeInstanceOf(GkrError)
    expect([e.exit, e.ref]).toEqual([3, ref])
    expect(e.message).toMatch(message)
  })

  it('401 is "could not complete", not a finding', () => {
    const e = mapError(new ApiException(401, 'Unauthorized', undefined, {}), 'get version') as GkrError
    expect([e.exit, e.code]).toEqual([3, 'kube-unauthorized'])
  })
})

describe('src/kube against the simulator', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('rbac-missing-attach')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('finds the cluster from --kubeconfig, with --context, and fails clearly on a missing context', async () => {
    const t = await resolveCluster({ kubeconfig: sim.kubeconfig, context: 'runner' })
    expect(t?.info).toMatchObject({ server: sim.url, context: 'runner', namespace: 'gitlab-runner', source: 'kubeconfig' })
    await expect(resolveCluster({ kubeconfig: sim.kubeconfig, context: 'nope' })).rejects.toThrow(/no context "nope" in .* \(contexts: admin, runner\)/)
    expect(await resolveCluster({ env: {}, home: mkdtempSync(path.join(os.tmpdir(), 'gkr-nohome-')) })).toBeUndefined()
  })

  it('a broken kubeconfig is a usage error naming the file (and line:column), never a library TypeError', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-kc-'))
    const write = (name: string, text: string): string => {
      const f = path.join(dir, name)
      writeFileSync(f, text)
      return f
    }
    const fail = async (file: string): Promise<GkrError> => {
      const err = await resolveCluster({ kubeconfig: file }).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(GkrError)
      return err as GkrError
    }
    const yamlErr = await fail(write('bad.yaml', 'apiVersion: v1\nclusters: [\n'))
    expect(yamlErr.exit).toBe(2)
    expect(yamlErr.at).toEqual({ file: path.join(dir, 'bad.yaml'), line: 3, column: 1 })
    expect(yamlErr.message).toMatch(/^invalid kubeconfig YAML: unexpected end of the stream/)
    expect((await fail(write('empty.yaml', '\n'))).message).toBe(`kubeconfig ${path.join(dir, 'empty.yaml')} is empty`)
    const noCluster = await fail(write('nocluster.yaml', 'apiVersion: v1\nkind: Config\n'))
    expect(noCluster.code).toBe('kubeconfig-no-cluster')
    expect(noCluster.message).toContain('names no current cluster (contexts: none)')
    expect((await fail(dir)).message).toMatch(/cannot read kubeconfig .*: EISDIR/)
    // The default ~/.kube/config may be an empty leftover: then there is simply no cluster.
    const home = mkdtempSync(path.join(os.tmpdir(), 'gkr-home-'))
    mkdirSync(path.join(home, '.kube'))
    writeFileSync(path.join(home, '.kube', 'config'), 'apiVersion: v1\nkind: Config\n')
    expect(await resolveCluster({ env: {}, home })).toBeUndefined()
  })

  it('uses the runner config\'s own host, ca_file and bearer_token when set', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-host-'))
    writeFileSync(path.join(dir, 'ca.pem'), sim.caPem)
    writeFileSync(path.join(dir, 'config.toml'), `[[runners]]\nexecutor = "kubernetes"\n[runners.kubernetes]\nhost = "${sim.url}"\nca_file = "${path.join(dir, 'ca.pem')}"\nbearer_token = "sim-runner-token"\nnamespace = "gitlab-runner"\n`)
    const config = await loadConfig({ path: path.join(dir, 'config.toml') })
    const t = await resolveCluster({ runner: config.runners[0]!, env: {} })
    expect(t?.info.source).toBe('runner-config')
    // The bearer token is the runner's: its (missing) permission to list pods proves which identity spoke.
    await expect(t!.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'gitlab-runner' })).rejects.toMatchObject({ code: 403, body: expect.stringContaining('User \\"system:serviceaccount:gitlab-runner:gitlab-runner\\" cannot list resource \\"pods\\"') })
  })

  it('in-cluster: the API server from KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA, and doctor\'s own pod from HOSTNAME and the namespace file', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'gkr-nohome-'))
    const sa = mkdtempSync(path.join(os.tmpdir(), 'gkr-sa-'))
    writeFileSync(path.join(sa, 'token'), 'sim-runner-token')
    writeFileSync(path.join(sa, 'ca.crt'), sim.caPem)
    writeFileSync(path.join(sa, 'namespace'), 'gitlab-runner\n')
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(sim.url).port, HOSTNAME: 'gitlab-runner-abc-123' }
    const t = (await resolveCluster({ env, home, serviceAccountDir: sa }))!
    expect(t.info).toEqual({ server: sim.url, source: 'in-cluster', self: { name: 'gitlab-runner-abc-123', namespace: 'gitlab-runner' } })
    expect(t.kc.getContextObject(t.kc.getCurrentContext())?.namespace).toBe('gitlab-runner')
    // The mounted token speaks (as the runner's service account), over TLS checked against the mounted CA.
    await expect(t.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'gitlab-runner' })).rejects.toMatchObject({ code: 403, body: expect.stringContaining('User \\"system:serviceaccount:gitlab-runner:gitlab-runner\\" cannot list resource \\"pods\\"') })
    // As client-node builds it: plain http on 8080, IPv6 in brackets; without HOSTNAME or namespace file, says which is missing.
    writeFileSync(path.join(sa, 'namespace'), '')
    const other = (await resolveCluster({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8080' }, home, serviceAccountDir: sa }))!
    expect(other.info).toEqual({ server: 'http://[fd00::1]:8080', source: 'in-cluster', self: { missing: `HOSTNAME is not set and ${path.join(sa, 'namespace')} is missing or empty` } })
    // The runner's order: in a pod, in-cluster configuration wins over ~/.kube/config; a kubeconfig the
    // user names (--kubeconfig, $KUBECONFIG, --context) wins over in-cluster.
    const withKube = mkdtempSync(path.join(os.tmpdir(), 'gkr-home-'))
    mkdirSync(path.join(withKube, '.kube'))
    writeFileSync(path.join(withKube, '.kube', 'config'), readFileSync(sim.kubeconfig, 'utf8'))
    writeFileSync(path.join(sa, 'namespace'), 'gitlab-runner\n')
    expect((await resolveCluster({ env, home: withKube, serviceAccountDir: sa }))!.info.source).toBe('in-cluster')
    expect((await resolveCluster({ env: { ...env, KUBECONFIG: sim.kubeconfig }, home, serviceAccountDir: sa }))!.info.source).toBe('kubeconfig')
    expect((await resolveCluster({ env, home: withKube, context: 'runner', serviceAccountDir: sa }))!.info).toMatchObject({ source: 'kubeconfig', context: 'runner' })
    expect((await resolveCluster({ env, kubeconfig: sim.kubeconfig, serviceAccountDir: sa }))!.info.source).toBe('kubeconfig')
    // No token mounted, or no service host: not in a pod.
    expect(await resolveCluster({ env, home, serviceAccountDir: home })).toBeUndefined()
    expect(await resolveCluster({ env: { HOSTNAME: 'x' }, home, serviceAccountDir: sa })).toBeUndefined()
  })

  it('reviews access for the connecting identity and, with as, for the runner\'s service account', async () => {
    const t = (await resolveCluster({ kubeconfig: sim.kubeconfig }))!
    const checks = [{ verb: 'create', group: '', resource: 'pods', subresource: 'attach', namespace: 'gitlab-runner' }, { verb: 'create', group: '', resource: 'pods', namespace: 'gitlab-runner' }]
    expect((await reviewAccess(t, checks)).map((r) => r.allowed)).toEqual([true, true])
    expect((await reviewAccess(t, checks, { as: 'system:serviceaccount:gitlab-runner:gitlab-runner' })).map((r) => r.allowed)).toEqual([false, true])
  })

  it('gathers in one measured wave, never reads secret data, and a forbidden read becomes a skipped fact', async () => {
    const config = await loadConfig({ path: sim.runnerConfig })
    const runner = config.runners[0]!
    const t = (await resolveCluster({ kubeconfig: sim.kubeconfigFor('runner') }))!
    const before = sim.audit.length
    const { facts, stats } = await gatherFacts(t, { runner, rendered: renderJob({ runner }), permissions: requiredPermissions(runner) })
    // Its own requests only, and the depth measured from their times (at most the number of requests).
    expect(stats.requests).toBe(sim.audit.length - before)
    expect(stats.roundTrips).toBeGreaterThanOrEqual(1)
    expect(stats.roundTrips).toBeLessThanOrEqual(stats.requests)
    expect(facts.nodes).toMatchObject({ ok: false, forbidden: { verb: 'list', resource: 'nodes' } })
    // Through a kubeconfig doctor has no pod of its own to read: nothing asked, no extra round trip.
    expect(facts.managerPod).toEqual({ ok: true, value: null })
    expect(facts.namespace).toMatchObject({ ok: false, forbidden: { verb: 'get', resource: 'namespaces' } })
    const secretReads = sim.audit.slice(before).filter((e) => e.resource === 'secrets' && e.verb !== 'create')
    expect(secretReads.map((e) => e.verb)).toEqual(['list'])
    expect(sim.writes()).toEqual([])
  })
})

describe('the client library against the simulator', () => {
  let sim: Sim
  let core: CoreV1Api
  let kc: KubeConfig
  beforeAll(async () => {
    sim = await start('healthy')
    kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfig)
    core = kc.makeApiClient(CoreV1Api)
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('creates, lists with pagination and label selectors, and dry-runs without persisting', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: 'gitlab-runner', body: { metadata: { name: `cm-${i}`, labels: { n: String(i % 2) } }, data: { a: 'b' } } })
    const page1 = await core.listNamespacedConfigMap({ namespace: 'gitlab-runner', limit: 2 })
    expect(page1.items.map((c) => c.metadata!.name)).toEqual(['cm-0', 'cm-1'])
    expect(page1.metadata!.remainingItemCount).toBe(3)
    const page2 = await core.listNamespacedConfigMap({ namespace: 'gitlab-runner', limit: 2, _continue: page1.metadata!._continue! })
    expect(page2.items.map((c) => c.metadata!.name)).toEqual(['cm-2', 'cm-3'])
    expect((await core.listNamespacedConfigMap({ namespace: 'gitlab-runner', labelSelector: 'n=1' })).items.map((c) => c.metadata!.name)).toEqual(['cm-1', 'cm-3'])
    const dry = await core.createNamespacedConfigMap({ namespace: 'gitlab-runner', body: { metadata: { name: 'dry' } }, dryRun: 'All' })
    expect(dry.metadata!.uid).toBeTruthy()
    await expect(core.readNamespacedConfigMap({ name: 'dry', namespace: 'gitlab-runner' })).rejects.toMatchObject({ code: 404 })
    await expect(core.createNamespacedConfigMap({ namespace: 'gitlab-runner', body: { metadata: { name: 'cm-0' } } })).rejects.toMatchObject({ code: 409 })
  })

  it('watches changes from a resourceVersion and answers 410 Gone for one that is too old', async () => {
    const list = await core.listNamespacedSecret({ namespace: 'gitlab-runner' })
    const seen: string[] = []
    const watch = new Watch(kc)
    const req = await watch.watch('/api/v1/namespaces/gitlab-runner/secrets', { resourceVersion: list.metadata!.resourceVersion }, (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`), () => undefined)
    await core.createNamespacedSecret({ namespace: 'gitlab-runner', body: { metadata: { name: 'watched' } } })
    await core.deleteNamespacedSecret({ name: 'watched', namespace: 'gitlab-runner' })
    await expect.poll(() => seen).toEqual(['ADDED watched', 'DELETED watched'])
    req.abort()
    const gone = await new Promise<string>((resolve) => {
      void watch.watch('/api/v1/namespaces/gitlab-runner/secrets', { resourceVersion: '1' }, (type, obj: { reason?: string; code?: number }) => resolve(`${type} ${obj.code} ${obj.reason}`), () => undefined)
    })
    expect(gone).toBe('ERROR 410 Expired')
  })

  it('garbage-collects dependents when their owner pod is deleted', async () => {
    const pod = await core.createNamespacedPod({ namespace: 'gitlab-runner', body: { metadata: { name: 'owner' }, spec: { containers: [{ name: 'c', image: 'alpine', resources: { requests: { cpu: '10m', memory: '10Mi' } } }] } } })
    await core.createNamespacedSecret({ namespace: 'gitlab-runner', body: { metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: pod.metadata!.uid! }] } } })
    await core.deleteNamespacedPod({ name: 'owner', namespace: 'gitlab-runner' })
    await expect(core.readNamespacedSecret({ name: 'owned', namespace: 'gitlab-runner' })).rejects.toMatchObject({ code: 404 })
  })
})

describe('garbage collection policies in the simulator', () => {
  it('foreground keeps the owner (deletionTimestamp, foregroundDeletion) until dependents are gone; orphan keeps dependents', async () => {
    const sim = await start('healthy')
    try {
      const kc = new KubeConfig()
      kc.loadFromFile(sim.kubeconfig)
      const core = kc.makeApiClient(CoreV1Api)
      const mk = async (name: string): Promise<string> => (await core.createNamespacedConfigMap({ namespace: 'gitlab-runner', body: { metadata: { name } } })).metadata!.uid!
      const owner = await mk('owner')
      await core.createNamespacedSecret({ namespace: 'gitlab-runner', body: { metadata: { name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner }] } } })
      const marked = await core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'gitlab-runner', body: { propagationPolicy: 'Foreground' } })
      // Still pending (dependents first): the API server answers with the marked object, not a Status.
      expect(marked.kind).toBe('ConfigMap')
      await expect.poll(async () => (await core.listNamespacedSecret({ namespace: 'gitlab-runner' })).items.map((s) => s.metadata!.name)).toEqual([])
      await expect.poll(async () => (await core.listNamespacedConfigMap({ namespace: 'gitlab-runner' })).items.map((c) => c.metadata!.name)).toEqual([])
      const owner2 = await mk('owner2')
      await core.createNamespacedSecret({ namespace: 'gitlab-runner', body: { metadata: { name: 'kept', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner2', uid: owner2 }] } } })
      await core.deleteNamespacedConfigMap({ name: 'owner2', namespace: 'gitlab-runner', body: { propagationPolicy: 'Orphan' } })
      const kept = await core.readNamespacedSecret({ name: 'kept', namespace: 'gitlab-runner' })
      expect(kept.metadata!.ownerReferences ?? []).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})
