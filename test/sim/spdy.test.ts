import { PassThrough } from 'node:stream'
import { Attach, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { SPDY_DICTIONARY, headerBlock, headerCodec, parseHeaderBlock } from '../../src/sim/spdy.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'
import { textSink as sink } from '../helpers/streams.js'

/**
 * pods/exec and pods/attach over SPDY/3.1, as client-go's remotecommand (GitLab Runner, kubectl with
 * KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) speaks it, driven by the unmodified kubectl; and attach
 * connecting to the container's own process, over both transports.
 */

const NS = 'gitlab-runner'
const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }
const small = { requests: { cpu: '10m', memory: '16Mi' } }

describe('SPDY header blocks', () => {
  it('the compression dictionary is the SPDY/3 one; header blocks round-trip through one zlib stream per direction', async () => {
    const zlib = await import('node:zlib')
    expect(SPDY_DICTIONARY.subarray(0, 15)).toEqual(Buffer.from([0, 0, 0, 7, ...Buffer.from('options'), 0, 0, 0, 4]))
    expect(SPDY_DICTIONARY.subarray(-7).toString('latin1')).toBe(',enq=0.')
    // What a client sends: two blocks from one deflate stream with the dictionary, each sync-flushed.
    const client = zlib.createDeflate({ dictionary: SPDY_DICTIONARY })
    const flushed = (b: Buffer): Promise<Buffer> => new Promise((resolve) => {
      const parts: Buffer[] = []
      const onData = (d: Buffer): number => parts.push(d)
      client.on('data', onData)
      client.write(b)
      client.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => {
        client.off('data', onData)
        resolve(Buffer.concat(parts))
      }))
    })
    const server = headerCodec()
    const a = await flushed(headerBlock({ streamType: 'error' }))
    const b = await flushed(headerBlock({ streamType: 'stdout', port: '0' }))
    expect(parseHeaderBlock(server.inflate(a))).toEqual({ streamtype: 'error' })
    expect(parseHeaderBlock(server.inflate(b))).toEqual({ streamtype: 'stdout', port: '0' })
    // What the server sends back inflates as one stream too.
    const out = Buffer.concat([server.deflate(headerBlock({})), server.deflate(headerBlock({ x: 'y' }))])
    const back = zlib.inflateSync(out, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    expect(back).toEqual(Buffer.concat([headerBlock({}), headerBlock({ x: 'y' })]))
  })
})

describe.runIf(hasKubectl)('SPDY/3.1 exec and attach with the unmodified kubectl; attach to the container\'s own process', () => {
  let sim: Sim
  let kc: KubeConfig
  let core: CoreV1Api
  beforeAll(async () => {
    sim = await start('healthy')
    kc = new KubeConfig()
    kc.loadFromFile(sim.kubeconfig)
    core = kc.makeApiClient(CoreV1Api)
    const pod = (name: string, command: string[]): V1Pod => ({ metadata: { name, namespace: NS }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'alpine:3.20', command, stdin: true, resources: small }] } })
    await core.createNamespacedPod({ namespace: NS, body: pod('box', ['sh', '-c', 'sleep 60']) })
    await core.createNamespacedPod({ namespace: NS, body: pod('shell', ['sh']) })
    for (const name of ['box', 'shell']) {
      while ((await core.readNamespacedPod({ name, namespace: NS })).status?.phase !== 'Running') await new Promise((r) => setTimeout(r, 20))
    }
  })
  afterAll(async () => {
    await sim?.stop()
    expect(sim.bugs()).toEqual([])
  })

  it('exec: stdout, stderr and the exit code, over SPDY (a POST, authorized as create)', async () => {
    const r = await kubectl(sim.kubeconfig, ['exec', 'box', '-n', NS, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], undefined, SPDY)
    expect([r.code, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\ncommand terminated with exit code 3\n'])
    const ok = await kubectl(sim.kubeconfig, ['exec', 'box', '-n', NS, '--', 'sh', '-c', 'echo fine'], undefined, SPDY)
    expect([ok.code, ok.stdout]).toEqual([0, 'fine\n'])
    const spdy = sim.audit.filter((e) => e.subresource === 'exec' && e.method === 'POST')
    expect(spdy.map((e) => [e.verb, e.code])).toEqual([['create', 101], ['create', 101]])
  })

  it('exec -i: stdin reaches the command (300 kB, many DATA frames) and its end is the end of the input', async () => {
    const r = await kubectl(sim.kubeconfig, ['exec', '-i', 'box', '-n', NS, '--', 'sh', '-c', 'wc -c; echo done'], 'x'.repeat(300_000), SPDY)
    expect([r.code, r.stdout.replace(/^\s+/, '')]).toEqual([0, '300000\ndone\n'])
  })

  it('a refused SPDY exec gets the API server\'s Forbidden Status, as kubectl prints it', async () => {
    // A reader: may get pods (kubectl reads the pod first), not exec into them.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api)
    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } })
    await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: NS }] } })
    const r = await kubectl(sim.kubeconfig, ['exec', 'box', '-n', NS, `--as=system:serviceaccount:${NS}:default`, '--', 'true'], undefined, SPDY)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error from server (Forbidden): pods "box" is forbidden: User "system:serviceaccount:${NS}:default" cannot create resource "pods/exec" in API group "" in the namespace "${NS}"\n`)
  })

  it('attach connects to the container\'s own shell: what one session leaves, the next one sees, over WebSocket then SPDY', async () => {
    const stdin = new PassThrough()
    const out = sink()
    const ws = await new Attach(kc).attach(NS, 'shell', 'main', out, null, stdin, false)
    stdin.write('GREETING=from-the-first-session; echo "pid $$"\n')
    await expect.poll(() => out.text).toMatch(/^pid \d+\n$/)
    const pid = out.text.trim().split(' ')[1]
    ws.close()
    // Detaching leaves the container's shell running; a second attach (SPDY) types into the same shell.
    const r = await kubectl(sim.kubeconfig, ['attach', '-i', 'shell', '-c', 'main', '-n', NS], 'echo "pid $$ $GREETING"; exit 0\n', SPDY)
    expect(r.stdout).toContain(`pid ${pid} from-the-first-session\n`)
    expect(r.code).toBe(0)
    // The shell was the container's process: it exited, so the container did, and its log has both answers.
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'shell', namespace: NS })).status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0)
    expect(await core.readNamespacedPodLog({ name: 'shell', namespace: NS })).toBe(`pid ${pid}\npid ${pid} from-the-first-session\n`)
  })
})
