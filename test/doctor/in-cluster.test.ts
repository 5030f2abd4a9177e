import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { prepareDoctor } from '../../src/doctor/prepare.js'
import { runDoctor } from '../../src/doctor/run.js'
import type { CheckResult } from '../../src/checks/types.js'
import { renderDoctorText } from '../../src/render/doctor-text.js'

const MANAGER_POD = 'gitlab-runner-6b8f9c7d54-q2x7m'
const NS = 'gitlab-runner'

/**
 * doctor running in-cluster, inside the runner manager's pod, on the windows-nodes scenario (whose
 * manager pod was scheduled onto the Windows node): the real resolveCluster in-cluster path, fed an
 * environment (KUBERNETES_SERVICE_HOST/PORT, HOSTNAME) and a service account directory (token,
 * ca.crt, namespace) that point at the simulator, as the kubelet would mount them.
 */
describe('gkr doctor in-cluster: the runner manager pod on a Windows node', () => {
  let sim: Sim
  let home: string
  beforeAll(async () => {
    sim = await start('windows-nodes')
    home = mkdtempSync(path.join(os.tmpdir(), 'gkr-incluster-home-'))
  })
  afterAll(async () => {
    await sim?.stop()
  })

  /** A mounted service account for `token`, as /var/run/secrets/kubernetes.io/serviceaccount holds it. */
  const serviceAccount = (token: string): string => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gkr-incluster-sa-')), 'serviceaccount')
    mkdirSync(dir)
    writeFileSync(path.join(dir, 'token'), token)
    writeFileSync(path.join(dir, 'ca.crt'), sim.caPem)
    writeFileSync(path.join(dir, 'namespace'), NS)
    return dir
  }
  const inPod = (hostname = MANAGER_POD): NodeJS.ProcessEnv => ({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(sim.url).port, HOSTNAME: hostname })

  async function doctor(env: NodeJS.ProcessEnv, serviceAccountDir: string): Promise<{ check: CheckResult; results: CheckResult[]; roundTrips: number | undefined; text: string }> {
    const signal = new AbortController().signal
    const prepared = await prepareDoctor({ config: sim.runnerConfig, offline: false, live: false, 'as-runner': false }, { signal, env, home, serviceAccountDir })
    const report = await runDoctor(prepared.input, { signal })
    const results = report.runners.flatMap((r) => r.results)
    return { check: results.find((r) => r.id === 'cluster-manager-pod')!, results, roundTrips: report.stats?.roundTrips, text: renderDoctorText(report, { color: false }) }
  }

  it("as the runner's service account (no access to nodes): reads its own pod with the mounted token, and is skipped naming the verb", async () => {
    const before = sim.audit.length
    const { check, results, text } = await doctor(inPod(), serviceAccount('sim-runner-token'))
    expect(text.split('\n')[0]).toBe(`gkr doctor: ${sim.runnerConfig} (config.toml), against ${sim.url} (in-cluster configuration)`)
    expect(check).toMatchObject({ status: 'skipped', reason: `cannot tell the OS of node win-1 that the runner manager pod ${NS}/${MANAGER_POD} runs on: cannot get nodes (forbidden); and the pod has no nodeSelector kubernetes.io/os: linux that would settle it` })
    // The reads went to the simulator as the mounted token's identity.
    const own = sim.audit.slice(before).filter((e) => (e.resource === 'pods' && e.name === MANAGER_POD) || (e.resource === 'nodes' && e.name === 'win-1'))
    expect(own.map((e) => [e.user, e.verb, e.resource, e.name, e.code])).toEqual([
      ['system:serviceaccount:gitlab-runner:gitlab-runner', 'get', 'pods', MANAGER_POD, 200],
      ['system:serviceaccount:gitlab-runner:gitlab-runner', 'get', 'nodes', 'win-1', 403],
    ])
    // The rest of doctor ran against the same cluster with the same identity: reached, and its node list forbidden too.
    expect(results.find((r) => r.id === 'cluster-connection')).toBeUndefined()
    // The configuration names no runner version: the manager pod's image gives it, and the report says so.
    expect(text).toContain(`checked against runner 17.9 (from the manager pod ${NS}/${MANAGER_POD}, image registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0): the configuration names no runner version`)
    expect(results.find((r) => r.id === 'cluster-scheduling')).toMatchObject({ status: 'skipped', reason: 'cannot list nodes (forbidden)' })
  })

  it('allowed to get nodes: fails with the catalog entry and the Helm nodeSelector fix, writing nothing', async () => {
    const rbac = (resource: string) => RESOURCES.find((r) => r.resource === resource && r.group === 'rbac.authorization.k8s.io')!
    sim.store.create(rbac('clusterroles'), undefined, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gitlab-runner-nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }] })
    sim.store.create(rbac('clusterrolebindings'), undefined, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'gitlab-runner-nodes' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gitlab-runner-nodes' }, subjects: [{ kind: 'ServiceAccount', name: 'gitlab-runner', namespace: NS }] })
    const { check, results, roundTrips } = await doctor(inPod(), serviceAccount('sim-runner-token'))
    expect(check.status).toBe('fail')
    expect(check.findings.map((f) => [f.severity, f.catalog, f.message])).toEqual([[
      'fail',
      ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'],
      `the runner manager pod ${NS}/${MANAGER_POD} (doctor's own pod) runs on node win-1, a windows node: the manager must run on Linux and reach Windows nodes only through the jobs' node_selector; on a Windows node its own service account token volume fails to mount ("chown is not supported by windows")`,
    ]])
    expect(check.findings[0]!.fix!.yaml).toContain('nodeSelector:\n  kubernetes.io/os: linux')
    expect(check.findings[0]!.details).toEqual({ pod: `${NS}/${MANAGER_POD}`, node: 'win-1', nodeOs: 'windows', pinnedOs: null })
    // The node read follows the pod read (a chained read: at least two deep); the scenario's own failure is still reported.
    expect(roundTrips).toBeGreaterThanOrEqual(2)
    expect(results.find((r) => r.id === 'cluster-scheduling')?.status).toBe('fail')
    expect(sim.writes(), 'doctor without --live writes nothing').toEqual([])
  })

  it('HOSTNAME that names no pod (spec.hostname set) and a cluster found through a kubeconfig: skipped with the reason', async () => {
    const renamed = await doctor(inPod('build-box'), serviceAccount('sim-runner-token'))
    expect(renamed.check).toMatchObject({ status: 'skipped', reason: `managerPod: no pod ${NS}/build-box: doctor takes HOSTNAME as its pod's name, which does not hold when the pod sets spec.hostname or uses the host's network` })
    const noHostname = await doctor({ ...inPod(), HOSTNAME: '' }, serviceAccount('sim-runner-token'))
    expect(noHostname.check.reason).toBe('managerPod: doctor runs in-cluster but cannot tell which pod it runs in: HOSTNAME is not set')
    const outside = await doctor({ KUBECONFIG: sim.kubeconfig }, serviceAccount('sim-runner-token'))
    expect(outside.check.status).toBe('skipped')
    expect(outside.check.reason).toMatch(/^doctor is not running in-cluster \(it reached the cluster through a kubeconfig or the runner's host setting\), so it cannot tell which pod the runner manager is/)
  })
})
