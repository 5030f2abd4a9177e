import { Agent, request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { seededRandom } from '../../src/executor/names.js'
import { measureLoadFactor } from '../helpers/load-factor.js'

/**
 * Seeded fuzzing of the in-process simulator: mutated pods, secrets, configmaps, services and
 * service accounts (a random JSON value of any type in any field), bad query parameters, bad paths,
 * bad content types and truncated bodies. Every answer must be well-formed (an error is a JSON
 * Status whose code is the HTTP status, or the API server's plain "404 page not found" for an
 * unknown path), the simulator must keep serving, and nothing may end in one of its own bugs.
 *
 * By default 300 objects and 300 requests, which already reach every kind, method, patch type, path,
 * query parameter, content type and Accept the fuzzer knows (asserted below: a smaller run covers the
 * same ground, only fewer combinations); GKR_FUZZ_FULL=1 runs 1000 of each, GKR_FUZZ_SEED another sequence.
 */

const SEED = Number(process.env.GKR_FUZZ_SEED ?? 20261203)
const FULL = process.env.GKR_FUZZ_FULL === '1'
const OBJECTS = FULL ? 1000 : 300
const REQUESTS = FULL ? 1000 : 300
const NS = 'gitlab-runner'

// The project's seeded generator (mulberry32): the same sequence on every machine.
const rng = seededRandom

type J = null | boolean | number | string | J[] | { [k: string]: J }

const KINDS = {
  pods: (n: string): J => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: n, labels: { app: 'fuzz' }, annotations: { a: 'b' } }, spec: { restartPolicy: 'Never', nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }], containers: [{ name: 'main', image: 'alpine:3.20', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } }, securityContext: { readOnlyRootFilesystem: true } }], initContainers: [{ name: 'init', image: 'alpine', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } }),
  secrets: (n: string): J => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: n, labels: { app: 'fuzz' } }, type: 'Opaque', data: { key: 'dmFsdWU=' }, stringData: { other: 'x' } }),
  configmaps: (n: string): J => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { app: 'fuzz' } }, data: { key: 'value' } }),
  services: (n: string): J => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n, labels: { app: 'fuzz' } }, spec: { selector: { app: 'fuzz' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } }),
  serviceaccounts: (n: string): J => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: n, labels: { app: 'fuzz' } }, imagePullSecrets: [{ name: 'pull' }], automountServiceAccountToken: false }),
}
type Kind = keyof typeof KINDS

function fuzzer(r: () => number): { pick: <T>(xs: readonly T[]) => T; value: (depth?: number) => J; mutate: (o: J) => J; text: () => string } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const text = (): string => pick(['', 'x', 'Bad_Name', 'a/b/c', '-', 'ünïcödé', '\u0000', '9'.repeat(300), 'a'.repeat(64), '1Gi', '-1', 'NaN', '{"a":1}', 'true', 'a=b', 'a in (', "'", '%', 'example.com/x'])
  const value = (depth = 0): J => {
    switch (Math.floor(r() * (depth > 2 ? 6 : 8))) {
      case 0: return null
      case 1: return r() < 0.5
      case 2: return pick([0, -1, 1.5, 1e308, -0, 2 ** 53, 65536, 7])
      case 3: return text()
      case 4: return []
      case 5: return {}
      case 6: return Array.from({ length: 1 + Math.floor(r() * 3) }, () => value(depth + 1))
      default: return Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 3) }, () => [pick(['name', 'image', 'labels', 'x', 'requests', 'cpu', '']), value(depth + 1)]))
    }
  }
  /** Replaces (or deletes, or adds next to) one randomly chosen field anywhere in the object. */
  const mutate = (o: J): J => {
    if (o === null || typeof o !== 'object' || r() < 0.15) return value()
    if (Array.isArray(o)) {
      if (o.length === 0 || r() < 0.1) return [...o, value()]
      const i = Math.floor(r() * o.length)
      return o.map((x, j) => (j === i ? mutate(x) : x))
    }
    const keys = Object.keys(o)
    if (keys.length === 0 || r() < 0.1) return { ...o, [pick(['name', 'labels', 'spec', 'metadata', 'containers', 'zzz'])]: value() }
    const k = pick(keys)
    if (r() < 0.1) {
      const { [k]: _gone, ...rest } = o
      return rest
    }
    return { ...o, [k]: mutate(o[k]!) }
  }
  return { pick, value, mutate, text }
}

/** No pod of the fuzzer runs a command on this machine: a command or args that decode are replaced. */
function harmless(kind: Kind, o: J): J {
  if (kind !== 'pods' || !o || typeof o !== 'object' || Array.isArray(o)) return o
  const spec = o.spec
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return o
  for (const list of ['containers', 'initContainers']) {
    const cs = spec[list]
    if (!Array.isArray(cs)) continue
    for (const c of cs) {
      if (!c || typeof c !== 'object' || Array.isArray(c)) continue
      for (const f of ['command', 'args']) if (Array.isArray(c[f]) && c[f].every((x) => typeof x === 'string')) c[f] = ['true']
    }
  }
  return o
}

interface Answer {
  status: number
  type: string
  text: string
}

describe('fuzzing the simulator', () => {
  let sim: Sim
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  beforeAll(async () => {
    sim = await start('healthy')
  })
  afterAll(async () => {
    agent.destroy()
    await sim?.stop()
  })

  const send = (method: string, p: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(new URL(p, sim.url), { method, agent, ca: sim.caPem, headers: { Authorization: 'Bearer sim-admin-token', ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
        const type = String(res.headers['content-type'] ?? '')
        // A watch or a followed log streams: its status line is the answer.
        if (res.headers['transfer-encoding'] === 'chunked' && (res.statusCode ?? 0) < 400) {
          res.destroy()
          return resolve({ status: res.statusCode ?? 0, type, text: '' })
        }
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type, text }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })

  /** The shape every answer must have; returns why it is malformed, if it is. */
  const malformed = (a: Answer): string | undefined => {
    if (a.status === 0 || a.status >= 500) return `status ${a.status}: ${a.text.slice(0, 300)}`
    if (a.status < 400) return undefined
    if (a.status === 404 && a.type.startsWith('text/plain') && a.text === '404 page not found\n') return undefined
    if (!a.type.startsWith('application/json')) return `${a.status} with content type "${a.type}": ${a.text.slice(0, 200)}`
    let s: { kind?: unknown; code?: unknown; status?: unknown; message?: unknown }
    try {
      s = JSON.parse(a.text) as typeof s
    } catch {
      return 'error body is not JSON'
    }
    if (s.kind !== 'Status' || s.code !== a.status || s.status !== 'Failure' || typeof s.message !== 'string') return `not a Status for ${a.status}: ${a.text.slice(0, 200)}`
    return undefined
  }

  it(`${OBJECTS} mutated objects and ${REQUESTS} bad requests: well-formed answers, no crash, no bug, every kind of input reached (seed ${SEED})`, async () => {
    const r = rng(SEED)
    const f = fuzzer(r)
    const kinds = Object.keys(KINDS) as Kind[]
    const problems: string[] = []
    const counts = new Map<number, number>()
    const check = (what: string, a: Answer): void => {
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1)
      const why = malformed(a)
      if (why && problems.length < 20) problems.push(`${what}: ${why}`)
    }
    // What the run reached, per dimension, to compare with everything the fuzzer can pick.
    const seen = new Map<string, Set<string>>()
    const cover = <T,>(dim: string, v: T): T => {
      if (!seen.has(dim)) seen.set(dim, new Set())
      seen.get(dim)!.add(String(v))
      return v
    }
    const OBJECT_METHODS = ['POST', 'POST', 'POST', 'PUT', 'PATCH'] as const
    const PATCH_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json']
    const jobs: Array<() => Promise<void>> = []
    for (let i = 0; i < OBJECTS; i++) {
      const kind = cover('object kind', f.pick(kinds))
      const name = `fz-${i}`
      let obj = KINDS[kind](name)
      for (let m = 0, n = 1 + Math.floor(r() * 3); m < n; m++) obj = f.mutate(obj)
      obj = harmless(kind, obj)
      const method = cover('object method', f.pick(OBJECT_METHODS))
      const dry = cover('object dryRun', r() < 0.5 ? '?dryRun=All' : '')
      const p = method === 'POST' ? `/api/v1/namespaces/${NS}/${kind}${dry}` : `/api/v1/namespaces/${NS}/${kind}/fz-${Math.floor(r() * Math.max(1, i))}${dry}`
      let body = JSON.stringify(obj)
      if (r() < 0.05) body = body.slice(0, Math.floor(r() * body.length))
      const type = method === 'PATCH' ? cover('patch type', f.pick(PATCH_TYPES)) : 'application/json'
      if (method === 'PATCH' && type.includes('json-patch')) body = JSON.stringify([{ op: f.pick(['add', 'replace', 'remove', 'test', 'move', 'bogus']), path: f.pick(['/metadata/labels', '/spec/containers/0/command', '/data/key', '/x', '', 'nope']), value: f.value() }])
      jobs.push(async () => check(`${method} ${p} ${body.slice(0, 120)}`, await send(method, p, body, { 'Content-Type': type, Accept: 'application/json' })))
    }
    const params = ['watch', 'limit', 'continue', 'labelSelector', 'fieldSelector', 'resourceVersion', 'timeoutSeconds', 'dryRun', 'propagationPolicy', 'allowWatchBookmarks', 'follow', 'tailLines', 'container', 'timeout']
    const REQUEST_METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const
    const TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', 'application/json-patch+json', 'application/merge-patch+json', '']
    const ACCEPTS = ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', '*/*', 'application/vnd.kubernetes.protobuf']
    let paths = 0
    for (let i = 0; i < REQUESTS; i++) {
      const kind = cover('request kind', f.pick(kinds))
      const bases = [
        `/api/v1/namespaces/${NS}/${kind}`, `/api/v1/namespaces/${NS}/${kind}/fz-${Math.floor(r() * OBJECTS)}`, `/api/v1/namespaces/${NS}/pods/fz-${Math.floor(r() * OBJECTS)}/log`,
        `/api/v1/namespaces/${NS}/pods/fz-${Math.floor(r() * OBJECTS)}/status`, `/api/v1/${kind}`, '/api', '/apis', '/api/v1', '/apis/apps/v1', '/version', '/openapi/v3', '/apis/nope/v9',
        `/api/v1/namespaces/nope/${kind}`, `/api/v2/${kind}`, `/api/v1/namespaces/${NS}/frobs`, '/%', '/api/v1/namespaces/%2e%2e/pods', `/${f.text()}`, '/api/v1/namespaces', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      ]
      paths = bases.length
      const b = Math.floor(r() * bases.length)
      const base = bases[cover('path', b)]!
      const q = new URLSearchParams()
      for (let k = 0, n = Math.floor(r() * 4); k < n; k++) q.append(cover('query parameter', f.pick(params)), f.pick([f.text(), 'True', '0', '-5', '1', 'x=y', 'All', 'Orphan', 'spec.foo=x', 'metadata.name=fz-1']))
      const method = cover('request method', f.pick(REQUEST_METHODS))
      const type = cover('content type', f.pick(TYPES))
      let body: string | undefined = r() < 0.5 ? JSON.stringify(f.value()) : r() < 0.5 ? JSON.stringify(f.mutate(KINDS[kind]('fz-x'))) : undefined
      if (body !== undefined && r() < 0.3) body = body.slice(0, Math.floor(r() * body.length))
      // DELETE of a collection only with a selector, so the fuzzer does not wipe the namespace it works in.
      if (method === 'DELETE' && !/fz-\d+$/.test(base)) q.set('labelSelector', 'app=fuzz-none')
      if (method === 'DELETE' && base === '/api/v1/namespaces') continue
      const p = `${base}${q.size ? `?${q}` : ''}`
      const accept = cover('accept', f.pick(ACCEPTS))
      jobs.push(async () => {
        const a = await send(method, p, method === 'HEAD' ? undefined : body, { ...(type ? { 'Content-Type': type } : {}), Accept: accept })
        if (method !== 'HEAD') check(`${method} ${p} (${type}) ${String(body).slice(0, 120)}`, a)
      })
    }
    // Eight at a time, in a seeded order: objects and requests interleave.
    const order = jobs.map((j, i) => ({ j, k: r() + (i < OBJECTS ? 0 : 0.2) })).sort((a, b) => a.k - b.k).map((x) => x.j)
    const started = Date.now()
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < order.length) await order[next++]!()
    }))
    const seconds = (Date.now() - started) / 1000
    expect(problems).toEqual([])
    expect(sim.bugs().map(String)).toEqual([])
    expect((await send('GET', '/version', undefined, {})).status).toBe(200)
    // Some of everything: created, decode errors, invalid objects, not found.
    for (const code of [200, 201, 400, 404, 422]) expect(counts.get(code) ?? 0, `answers with ${code}: ${JSON.stringify([...counts])}`).toBeGreaterThan(Math.max(5, jobs.length / 100))
    // Every value of every dimension was sent at least once.
    const size = (dim: string): number => seen.get(dim)?.size ?? 0
    expect(Object.fromEntries([...seen.keys()].sort().map((d) => [d, size(d)]))).toEqual({
      accept: ACCEPTS.length, 'content type': TYPES.length, 'object dryRun': 2, 'object kind': kinds.length, 'object method': new Set(OBJECT_METHODS).size,
      'patch type': PATCH_TYPES.length, path: paths, 'query parameter': params.length, 'request kind': kinds.length, 'request method': new Set(REQUEST_METHODS).size,
    })
    // About 3 ms a case on an idle machine; the bound (20 ms a case, scaled by the load measured now) only
    // catches a simulator that got pathologically slow.
    expect(seconds).toBeLessThan((jobs.length * 20 * measureLoadFactor()) / 1000)
  }, 60_000)
})
