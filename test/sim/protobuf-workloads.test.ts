/**
 * The protobuf bodies of kubectl's workload shortcuts (`kubectl create deployment|job|cronjob`, `create job
 * --from=cronjob/…`), through the unmodified kubectl, and hand-built bodies for what kubectl does not send:
 * a pointer field set to zero, a negative number, and a field the simulator does not model (415, never
 * silently dropped).
 */
import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../src/sim/index.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'
import { unwrap } from '../../src/sim/protobuf.js'
import { decodeWorkload } from '../../src/sim/protobuf-workloads.js'

let sim: Sim
beforeAll(async () => {
  sim = await start(loadScenario('healthy'))
})
afterAll(async () => {
  await sim?.stop()
})

const k = (args: string[]): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, ['-n', 'default', ...args])
const json = async (args: string[]): Promise<Record<string, any>> => JSON.parse((await k([...args, '-o', 'json'])).stdout) as Record<string, any>

describe.runIf(hasKubectl)('kubectl create deployment / job / cronjob (protobuf bodies)', () => {
  it('creates a Deployment with replicas, labels, selector, ports and two containers', async () => {
    expect((await k(['create', 'deployment', 'pbw-web', '--image=nginx:1.27', '--image=redis:7', '--replicas=3', '--port=80'])).stdout).toBe('deployment.apps/pbw-web created\n')
    const d = await json(['get', 'deployment', 'pbw-web'])
    expect(d.metadata.labels).toEqual({ app: 'pbw-web' })
    expect(d.spec.replicas).toBe(3)
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'pbw-web' } })
    expect(d.spec.template.metadata.labels).toEqual({ app: 'pbw-web' })
    expect(d.spec.template.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image])).toEqual([['nginx', 'nginx:1.27'], ['redis', 'redis:7']])
    expect(d.spec.template.spec.containers[0].ports).toEqual([expect.objectContaining({ containerPort: 80 })])
  })

  it('keeps replicas 0 (a pointer in Go: sent only when set, so zero means zero)', async () => {
    expect((await k(['create', 'deployment', 'pbw-zero', '--image=nginx', '--replicas=0'])).code).toBe(0)
    expect((await json(['get', 'deployment', 'pbw-zero'])).spec.replicas).toBe(0)
  })

  it('creates a Job with its command and restartPolicy Never', async () => {
    expect((await k(['create', 'job', 'pbw-once', '--image=busybox', '--', 'sh', '-c', 'echo hi'])).stdout).toBe('job.batch/pbw-once created\n')
    const spec = (await json(['get', 'job', 'pbw-once'])).spec.template.spec
    expect(spec.restartPolicy).toBe('Never')
    expect(spec.containers).toEqual([expect.objectContaining({ name: 'pbw-once', image: 'busybox', command: ['sh', '-c', 'echo hi'] })])
  })

  it('creates a CronJob, and a Job from it that names it as owner (ownerReferences, the instantiate annotation)', async () => {
    expect((await k(['create', 'cronjob', 'pbw-tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'])).code).toBe(0)
    const cj = await json(['get', 'cronjob', 'pbw-tick'])
    expect(cj.spec.schedule).toBe('*/5 * * * *')
    expect(cj.spec.jobTemplate.metadata.name).toBe('pbw-tick')
    expect(cj.spec.jobTemplate.spec.template.spec).toMatchObject({ restartPolicy: 'OnFailure', containers: [{ name: 'pbw-tick', image: 'busybox', command: ['date'] }] })
    expect((await k(['create', 'job', 'pbw-manual', '--from=cronjob/pbw-tick'])).stdout).toBe('job.batch/pbw-manual created\n')
    const job = await json(['get', 'job', 'pbw-manual'])
    expect(job.metadata.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' })
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'pbw-tick', uid: cj.metadata.uid, controller: true }])
  })

  it('server-side dry-run of a protobuf body persists nothing', async () => {
    const r = await k(['create', 'job', 'pbw-dry', '--image=busybox', '--dry-run=server', '-o', 'name'])
    expect(r).toMatchObject({ code: 0, stdout: 'job.batch/pbw-dry\n' })
    expect((await k(['get', 'job', 'pbw-dry'])).code).not.toBe(0)
  })
})

// A minimal protobuf writer: what kubectl's marshaller writes, field by field.
const varint = (n: bigint): Buffer => {
  const out: number[] = []
  let v = BigInt.asUintN(64, n)
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v) byte |= 0x80
    out.push(byte)
  } while (v)
  return Buffer.from(out)
}
const bytesField = (n: number, v: Buffer | string): Buffer => {
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v)
  return Buffer.concat([varint(BigInt(n * 8 + 2)), varint(BigInt(b.length)), b])
}
const intField = (n: number, v: number): Buffer => Buffer.concat([varint(BigInt(n * 8)), varint(BigInt(v))])
const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts)
/** The `k8s\0` envelope around runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytesField(1, msg(bytesField(1, apiVersion), bytesField(2, kind))), bytesField(2, raw)])

function post(p: string, body: Buffer): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { method: 'POST', ca: sim.caPem, headers: { Authorization: 'Bearer sim-admin-token', 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any> }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Job{metadata{name}, spec{backoffLimit, activeDeadlineSeconds, template{spec{containers[{name, image, <extra>}]}}}}. */
function jobBody(name: string, opts: { backoffLimit?: number; deadline?: number; containerExtra?: Buffer } = {}): Buffer {
  const container = msg(bytesField(1, 'c'), bytesField(2, 'busybox'), opts.containerExtra ?? Buffer.alloc(0))
  const podSpec = msg(bytesField(2, container), bytesField(3, 'Never'))
  const spec = msg(...(opts.backoffLimit !== undefined ? [intField(7, opts.backoffLimit)] : []), ...(opts.deadline !== undefined ? [intField(3, opts.deadline)] : []), bytesField(6, msg(bytesField(2, podSpec))))
  return envelope('batch/v1', 'Job', msg(bytesField(1, msg(bytesField(1, name))), bytesField(2, spec)))
}

describe('hand-built protobuf Job bodies', () => {
  it('keeps a pointer field set to zero', async () => {
    const ok = await post('/apis/batch/v1/namespaces/default/jobs', jobBody('pbw-zero-backoff', { backoffLimit: 0 }))
    expect(ok.status).toBe(201)
    expect(ok.json.spec.backoffLimit).toBe(0)
  })

  it('decodes a negative number as Go wrote it (a ten-byte varint a double cannot hold)', () => {
    const raw = unwrap(jobBody('pbw-neg', { backoffLimit: 0, deadline: -5 })).raw
    expect(decodeWorkload('Job', raw).spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: -5 })
  })

  it('answers 415 for a field it does not model that carries a value (a volumeMount), never dropping it', async () => {
    const mount = bytesField(9, msg(bytesField(1, 'data'), bytesField(3, '/data')))
    const r = await post('/apis/batch/v1/namespaces/default/jobs', jobBody('pbw-mount', { containerExtra: mount }))
    expect(r.status).toBe(415)
    expect(r.json).toMatchObject({ kind: 'Status', code: 415, reason: 'UnsupportedMediaType', message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml' })
  })

  it('ignores the unmodelled fields Go writes with zero values (an empty string, a zero, an empty message)', async () => {
    // Container.stdin (16) = 0, volumeMounts absent, livenessProbe (10) an empty message, workingDir (5) "".
    const extra = msg(intField(16, 0), bytesField(10, Buffer.alloc(0)), bytesField(5, ''))
    const r = await post('/apis/batch/v1/namespaces/default/jobs', jobBody('pbw-zeros', { containerExtra: extra }))
    expect(r.status).toBe(201)
    expect(r.json.spec.template.spec.containers).toEqual([expect.objectContaining({ name: 'c', image: 'busybox' })])
    expect(r.json.spec.template.spec.containers[0]).not.toHaveProperty('stdin')
  })

  it('answers 400 for a body that does not parse as the kind', async () => {
    const broken = envelope('batch/v1', 'Job', Buffer.from([0x12, 0x50, 0x01]))
    const r = await post('/apis/batch/v1/namespaces/default/jobs', broken)
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({ kind: 'Status', code: 400 })
  })
})
