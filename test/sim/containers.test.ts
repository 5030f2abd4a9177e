/**
 * The simulated kubelet runs every container of a scheduled pod: a service container's command and
 * args run with its env, stdin stays open for `stdin: true` containers, output goes to pods/log and the
 * state to containerStatuses, and deleting the pod kills the container's whole process group. Inside
 * the pod, getent/nslookup answer spec.hostAliases before the scenario's DNS table, as /etc/hosts does.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { CoreV1Api, Exec, KubeConfig, type V1Container, type V1Status } from '@kubernetes/client-node'
import { textSink as sink } from '../helpers/streams.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'

const NS = 'gitlab-runner'
const small = { requests: { cpu: '10m', memory: '16Mi' } }

/** A port nothing listens on right now (the OS picks it), for a service the test starts. */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}


/** A one-line HTTP server, started through `sh -c` so the server is a child of the container's main process. */
const server = (port: number): string => `echo "starting $SVC_NAME"; node -e "require('http').createServer((q, s) => s.end('pong from ' + process.env.SVC_NAME + '\\n')).listen(${port}, '127.0.0.1', () => console.log('listening on ${port}'))"`

describe('simulated kubelet: every container runs, service containers serve, the pod network knows hostAliases', () => {
  let sim: Sim
  let core: CoreV1Api
  let kc: KubeConfig
  beforeAll(async () => {
    const scenario = loadScenario('healthy')
    // The DNS table also has an answer for "web": the pod's host alias must win, as /etc/hosts does.
    scenario.knobs = { ...scenario.knobs, clockFactor: 0.001, network: { dns: { web: '10.9.9.9', 'gitlab.example.com': '10.1.2.3' }, resolveOthers: false } }
    sim = await start(scenario)
    kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfigFor('admin'))
    core = kc.makeApiClient(CoreV1Api)
  })
  afterAll(async () => {
    await sim?.stop()
  })

  const state = async (pod: string, container: string): Promise<Record<string, unknown> | undefined> =>
    (await core.readNamespacedPod({ name: pod, namespace: NS })).status?.containerStatuses?.find((c) => c.name === container)?.state as Record<string, unknown> | undefined

  const exec = (pod: string, container: string, script: string): Promise<{ out: string; status: V1Status }> => {
    const out = sink()
    return new Promise((resolve, reject) => void new Exec(kc).exec(NS, pod, container, ['sh', '-c', script], out, out, null, false, (status) => resolve({ out: out.text, status })).catch(reject))
  }

  it('a service container runs its command with its env, logs, keeps stdin open, and is killed with the pod', async () => {
    const port = await freePort()
    const containers: V1Container[] = [
      { name: 'build', image: 'alpine:3.20', command: ['sh', '-c', 'cat; echo build stdin closed'], stdin: true, resources: small },
      { name: 'svc-0', image: 'tiny-http:1', command: ['sh', '-c'], args: [server(port)], env: [{ name: 'SVC_NAME', value: 'web' }], stdin: true, resources: small },
      { name: 'once', image: 'alpine:3.20', command: ['sh', '-c', 'cat; getent hosts with-service; getent hosts web; echo once stdin closed'], resources: small },
      { name: 'idle', image: 'postgres:16', stdin: true, resources: small },
    ]
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'with-service', namespace: NS }, spec: { restartPolicy: 'Never', containers, hostAliases: [{ ip: '127.0.0.1', hostnames: ['tiny-http', 'web'] }] } } })
    await expect.poll(() => core.readNamespacedPodLog({ name: 'with-service', namespace: NS, container: 'svc-0' }), { timeout: 5000 }).toBe(`starting web\nlistening on ${port}\n`)
    expect(await listening(port)).toBe(true)
    // Without stdin, `cat` reads end-of-file at once and the container completes; with stdin it waits.
    await expect.poll(() => state('with-service', 'once')).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } })
    const ip = (await core.readNamespacedPod({ name: 'with-service', namespace: NS })).status?.podIP
    expect(ip).toMatch(/^10\.244\.\d+\.\d+$/)
    expect(await core.readNamespacedPodLog({ name: 'with-service', namespace: NS, container: 'once' })).toBe(`${ip}       with-service\n127.0.0.1       web\nonce stdin closed\n`)
    expect(await state('with-service', 'build')).toHaveProperty('running')
    expect(await state('with-service', 'svc-0')).toHaveProperty('running')
    // No command and no image to take an entrypoint from: running, without a process or output.
    expect(await state('with-service', 'idle')).toHaveProperty('running')
    expect(await core.readNamespacedPodLog({ name: 'with-service', namespace: NS, container: 'idle' })).toBe('')
    expect(await core.readNamespacedPodLog({ name: 'with-service', namespace: NS, container: 'build' })).toBe('')
    expect((await core.readNamespacedPod({ name: 'with-service', namespace: NS })).status?.phase).toBe('Running')

    // From another container of the pod: the alias resolves to 127.0.0.1 and the service answers there.
    const r = await exec('with-service', 'build', `getent hosts web && node -e "fetch('http://' + process.argv[1] + ':${port}/').then((r) => r.text()).then((t) => process.stdout.write(t))" "$(getent hosts web | cut -d' ' -f1)"`)
    expect(r.status.status).toBe('Success')
    expect(r.out).toBe('127.0.0.1       web\npong from web\n')

    await core.deleteNamespacedPod({ name: 'with-service', namespace: NS })
    // The whole process group goes: the node server, not only the `sh -c` that started it.
    await expect.poll(() => listening(port), { timeout: 5000 }).toBe(false)
  })

  it('deleting the pod ends its exec sessions with everything they started (a job script\'s background sleep)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'sleeper', namespace: NS }, spec: { restartPolicy: 'Never', containers: [{ name: 'build', image: 'alpine:3.20', stdin: true, resources: small }] } } })
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'sleeper', namespace: NS })).status?.phase).toBe('Running')
    const out = sink()
    const session = new Promise<V1Status>((resolve, reject) => void new Exec(kc).exec(NS, 'sleeper', 'build', ['sh', '-c', 'sleep 30 & echo $!; wait'], out, out, null, false, resolve).catch(reject))
    await expect.poll(() => /^\d+\n$/.test(out.text)).toBe(true)
    const pid = Number(out.text.trim())
    // Killed and orphaned, it may stay a zombie until init reaps it: a zombie runs no more.
    const alive = (): boolean => {
      try {
        if (existsSync('/proc/self/stat')) return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    expect(alive()).toBe(true)
    await core.deleteNamespacedPod({ name: 'sleeper', namespace: NS })
    expect(await session).toMatchObject({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '137' }] } })
    await expect.poll(alive).toBe(false)
  })

  it('getent and nslookup answer hostAliases first, then the scenario DNS table; localhost and the pod\'s own name as /etc/hosts has them', async () => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'resolver', namespace: NS }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'alpine:3.20', stdin: true, resources: small }], hostAliases: [{ ip: '127.0.0.1', hostnames: ['postgres', 'web'] }, { ip: '10.5.5.5', hostnames: ['mirror.internal'] }] } } })
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'resolver', namespace: NS })).status?.phase).toBe('Running')
    const ip = (await core.readNamespacedPod({ name: 'resolver', namespace: NS })).status?.podIP
    const r = await exec('resolver', 'main', 'getent hosts web; getent hosts postgres; getent hosts mirror.internal; getent hosts localhost; getent hosts resolver; getent hosts gitlab.example.com; getent hosts nowhere.example.com; echo "rc=$?"; nslookup web')
    expect(r.out).toBe([
      '127.0.0.1       web', '127.0.0.1       postgres', '10.5.5.5       mirror.internal', '127.0.0.1       localhost', `${ip}       resolver`,
      '10.1.2.3       gitlab.example.com', 'rc=2',
      'Server:         10.96.0.10', 'Address:        10.96.0.10#53', '', 'Name:   web', 'Address: 127.0.0.1', '',
    ].join('\n'))
    await core.deleteNamespacedPod({ name: 'resolver', namespace: NS })
  })
})
