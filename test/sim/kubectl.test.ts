import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'


const POD = `apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: gitlab-runner
spec:
  containers:
    - name: main
      image: alpine:3.20
      resources:
        requests: { cpu: 100m, memory: 64Mi }
`

describe.runIf(hasKubectl)('unmodified kubectl against gkr sim', () => {
  let sim: Sim
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    await sim?.stop()
  })

  it('get nodes and namespaces (server-side tables)', async () => {
    const nodes = await kubectl(sim.kubeconfig, ['get', 'nodes'])
    expect(nodes.code).toBe(0)
    expect(nodes.stdout).toMatch(/^NAME\s+AGE\nnode-1\s+\d+s\n$/)
    expect((await kubectl(sim.kubeconfig, ['get', 'namespaces', '-o', 'name'])).stdout).toBe('namespace/default\nnamespace/gitlab-runner\n')
  })

  it('get --raw /version', async () => {
    const r = await kubectl(sim.kubeconfig, ['get', '--raw', '/version'])
    expect(JSON.parse(r.stdout)).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.1' })
  })

  it('auth can-i, also --as the runner service account (protobuf access reviews)', async () => {
    const sa = '--as=system:serviceaccount:gitlab-runner:gitlab-runner'
    const attach = await kubectl(sim.kubeconfig, ['auth', 'can-i', 'create', 'pods', '--subresource=attach', '-n', 'gitlab-runner', sa])
    expect([attach.code, attach.stdout.trim()]).toEqual([0, 'yes'])
    const ns = await kubectl(sim.kubeconfig, ['auth', 'can-i', 'create', 'namespaces', sa])
    expect([ns.code, ns.stdout.trim()]).toEqual([1, 'no'])
  })

  it('create --dry-run=server persists nothing; create, get and delete do', async () => {
    const dry = await kubectl(sim.kubeconfig, ['create', '--dry-run=server', '-f', '-', '-o', 'name'], POD)
    expect([dry.code, dry.stdout.trim()]).toEqual([0, 'pod/probe'])
    expect((await kubectl(sim.kubeconfig, ['get', 'pods', '-n', 'gitlab-runner', '-o', 'name'])).stdout).toBe('')
    const created = await kubectl(sim.kubeconfig, ['create', '-f', '-'], POD)
    expect(created.stdout.trim()).toBe('pod/probe created')
    const got = await kubectl(sim.kubeconfig, ['get', 'pod', 'probe', '-n', 'gitlab-runner', '-o', 'jsonpath={.spec.nodeName}'])
    expect(got.stdout).toBe('node-1')
    const del = await kubectl(sim.kubeconfig, ['delete', 'pod', 'probe', '-n', 'gitlab-runner', '--wait=false'])
    expect(del.stdout.trim()).toBe('pod "probe" deleted')
  })

  it('exec runs the command (WebSocket v5) and reports its exit code; the runner identity may exec too', async () => {
    await kubectl(sim.kubeconfig, ['create', '-f', '-'], POD.replace('name: probe', 'name: exec-probe'))
    await expect.poll(async () => (await kubectl(sim.kubeconfig, ['get', 'pod', 'exec-probe', '-n', 'gitlab-runner', '-o', 'jsonpath={.status.phase}'])).stdout, { timeout: 10_000 }).toBe('Running')
    const ok = await kubectl(sim.kubeconfig, ['exec', 'exec-probe', '-n', 'gitlab-runner', '--', 'sh', '-c', 'echo hello from $HOSTNAME'])
    expect([ok.code, ok.stdout]).toEqual([0, 'hello from exec-probe\n'])
    const bad = await kubectl(sim.kubeconfig, ['exec', 'exec-probe', '-n', 'gitlab-runner', '--', 'sh', '-c', 'exit 3'])
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('command terminated with exit code 3')
    const asRunner = await kubectl(sim.kubeconfigFor('runner'), ['exec', 'exec-probe', '-n', 'gitlab-runner', '--', 'true'])
    expect(asRunner.code).toBe(0)
  })

  it('logs, describe (with the kubelet\'s events) and the Completed status of a pod that ran to completion', async () => {
    const once = POD.replace('name: probe', 'name: once').replace('spec:\n', 'spec:\n  restartPolicy: Never\n').replace('      image: alpine:3.20', '      image: alpine:3.20\n      command: ["sh", "-c", "echo line1; echo line2"]')
    await kubectl(sim.kubeconfig, ['create', '-f', '-'], once)
    await expect.poll(async () => (await kubectl(sim.kubeconfig, ['get', 'pod', 'once', '-n', 'gitlab-runner', '-o', 'jsonpath={.status.phase}'])).stdout, { timeout: 10_000 }).toBe('Succeeded')
    expect((await kubectl(sim.kubeconfig, ['logs', 'once', '-n', 'gitlab-runner'])).stdout).toBe('line1\nline2\n')
    expect((await kubectl(sim.kubeconfig, ['get', 'pod', 'once', '-n', 'gitlab-runner'])).stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nonce\s+0\/1\s+Completed\s+0\s+\d+s\n$/)
    const described = await kubectl(sim.kubeconfig, ['describe', 'pod', 'once', '-n', 'gitlab-runner'])
    expect(described.stdout).toMatch(/Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned gitlab-runner\/once to node-1/)
    expect(described.stdout).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container main/)
  })

  it('get -w streams changes as they happen (no sleeping: the audit log shows when the watch is open)', async () => {
    const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', `${sim.kubeconfig}.cache`, 'get', 'configmaps', '-n', 'gitlab-runner', '-w'], { env: { ...process.env, HOME: `${sim.kubeconfig}.home` } })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    const closed = new Promise((r) => child.on('close', r))
    try {
      await expect.poll(() => sim.audit.some((e) => e.verb === 'watch' && e.resource === 'configmaps'), { timeout: 15_000 }).toBe(true)
      await kubectl(sim.kubeconfig, ['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n  namespace: gitlab-runner\n')
      await expect.poll(() => stdout, { timeout: 15_000 }).toMatch(/^NAME\s+AGE\nwatched\s+\d+s\n$/)
    } finally {
      child.kill('SIGTERM')
      await closed
    }
  })

  it('get pods lists the server-side table; describe shows the scheduler\'s FailedScheduling event', async () => {
    const unschedulable = POD.replace('name: probe', 'name: nowhere').replace('spec:\n', 'spec:\n  nodeSelector: { pool: none }\n')
    await kubectl(sim.kubeconfig, ['create', '-f', '-'], unschedulable)
    await expect.poll(async () => (await kubectl(sim.kubeconfig, ['describe', 'pod', 'nowhere', '-n', 'gitlab-runner'])).stdout, { timeout: 15_000 })
      .toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector\. preemption: 0\/1 nodes are available: 1 Preemption is not helpful for scheduling\./)
    const list = await kubectl(sim.kubeconfig, ['get', 'pods', '-n', 'gitlab-runner', '-o', 'wide'])
    expect(list.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/)
    expect(list.stdout).toMatch(/^nowhere\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m)
  })

  it('errors read as a real API server\'s: NotFound, quota "must specify", Forbidden for the runner', async () => {
    const nf = await kubectl(sim.kubeconfig, ['get', 'pod', 'nope', '-n', 'gitlab-runner'])
    expect(nf.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found')
    const noReq = await kubectl(sim.kubeconfig, ['run', 'bare', '--image=alpine', '-n', 'gitlab-runner', '--dry-run=server'])
    expect(noReq.stderr.trim()).toBe('Error from server (Forbidden): pods "bare" is forbidden: failed quota: ci: must specify requests.cpu for: bare; requests.memory for: bare')
    const runner = sim.kubeconfigFor('runner')
    const forbidden = await kubectl(runner, ['get', 'nodes'])
    expect(forbidden.stderr.trim()).toBe('Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:gitlab-runner:gitlab-runner" cannot list resource "nodes" in API group "" at the cluster scope')
  })
})
