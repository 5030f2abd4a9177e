import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadScenario, start, type Sim } from '../../../src/sim/index.js'
import { findResource } from '../../../src/sim/resources.js'
import { hasKubectl, kubectl } from '../../helpers/async-cli.js'

/**
 * The three-client conformance suite: the same steps — the operations GitLab Runner and gkr make
 * (create, get, list, patch, delete of configmaps, secrets, services, serviceaccounts and pods;
 * logs; exec; access reviews; watch event order; error Status bodies and codes; graceful pod
 * deletion) — driven by three clients nobody on the project wrote: kubectl, the official Python
 * client (Debian's python3-kubernetes) and @kubernetes/client-node 2.x on Node 22. Each client's
 * transcript must be what a real API server gives it (EXPECTED). `.ci/run` installs the clients
 * (python3-kubernetes with apt, node@22 and client-node@2 into a prefix it names in
 * GKR_CONFORMANCE_PREFIX); in CI a missing client fails the suite, elsewhere it is skipped with the
 * reason printed.
 */

const here = path.dirname(fileURLToPath(import.meta.url))
const inCI = process.env.CI === 'true'

/** What a real API server answers each step (the same for every client). */
const EXPECTED: Array<[string, string]> = [
  ['configmap create', 'c1 a=1'],
  ['configmap get', 'c1 a=1'],
  ['configmap list by label', 'c1'],
  ['configmap patch', 'c1 a=2'],
  ['get missing', '404 NotFound configmaps "nope" not found'],
  ['create duplicate', '409 AlreadyExists configmaps "c1" already exists'],
  ['create invalid', `422 Invalid ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
  // The API server defaults a Secret's type to Opaque.
  ['secret get', 's1 Opaque token=secret'],
  ['service get', 'svc1 80'],
  ['serviceaccount get', 'sa1'],
  ['access review', 'allowed=true'],
  ['watch', 'ADDED w1, MODIFIED w1, DELETED w1'],
  ['pod running', 'Running'],
  ['pod log', 'hello\n'],
  ['pod exec', 'out exit=3'],
  // Graceful: the delete answers with the pod marked, which goes once its container stopped.
  ['pod delete', 'deletionGracePeriodSeconds=5 deletionTimestamp=true'],
  ['pod gone', '404'],
  ['cleanup', '404 NotFound configmaps "c1" not found'],
]

/** The Debian package's interpreter (a pyenv or venv python3 first on PATH may lack it). */
function pythonWithClient(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import kubernetes, websocket'], { stdio: 'ignore' })
      return py
    } catch {
      // not this one
    }
  }
  return undefined
}

function node22Prefix(): string | undefined {
  const prefix = process.env.GKR_CONFORMANCE_PREFIX
  if (!prefix) return undefined
  const ok = existsSync(path.join(prefix, 'node_modules', '.bin', 'node')) && existsSync(path.join(prefix, 'node_modules', '@kubernetes', 'client-node', 'package.json'))
  return ok ? prefix : undefined
}

const python = pythonWithClient()
const prefix = node22Prefix()
const missing: Record<string, string | undefined> = {
  kubectl: hasKubectl ? undefined : 'kubectl is not installed',
  python: python ? undefined : 'no python3 can import the kubernetes client (apt-get install -y python3-kubernetes)',
  'client-node': prefix ? undefined : 'GKR_CONFORMANCE_PREFIX does not name an npm prefix with node@22 and @kubernetes/client-node@2 (npm install --prefix DIR node@22 @kubernetes/client-node@2)',
}
for (const [client, why] of Object.entries(missing)) if (why && !inCI) process.stdout.write(`conformance: skipping ${client}: ${why}\n`)

function run(cmd: string, args: string[]): Promise<Array<[string, string]>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 25_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${args[0]} failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout) as Array<[string, string]>)
    })
  })
}

/** kubectl's answer to a failing command as the other clients see it: code, reason, message. */
function failureOf(r: { code: number | null; stderr: string }): string {
  if (r.code === 0) return 'no error'
  const code = /status="(\d{3}) /.exec(r.stderr.split('\n').find((l) => /status="[45]\d\d /.test(l)) ?? '')?.[1] ?? '?'
  const line = r.stderr.split('\n').filter((l) => l && !/^[IWE]\d{4} /.test(l)).at(-1) ?? ''
  // kubectl words a 422 "The <message>" instead of "Error from server (Invalid): <message>".
  // kubectl create -f adds which input failed: `error when creating "STDIN": `.
  const m = /^Error from server \((\w+)\): (?:error when creating "[^"]*": )?(.*)$/.exec(line) ?? (/^The (.* is invalid: .*)$/.test(line) ? [line, 'Invalid', line.slice(4)] : undefined)
  return m ? `${code} ${m[1]} ${m[2]}` : `${code} ? ${line}`
}

async function kubectlSteps(sim: Sim, ns: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  const k = (args: string[], input?: string): ReturnType<typeof kubectl> => kubectl(sim.kubeconfig, ['-n', ns, ...args], input)
  const json = async (args: string[], input?: string): Promise<Record<string, unknown> & { metadata: { name: string; [k: string]: unknown } }> => {
    const r = await k([...args, '-o', 'json'], input)
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`)
    return JSON.parse(r.stdout) as Record<string, unknown> & { metadata: { name: string } }
  }
  const manifest = (o: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'v1', ...o })
  const cmText = (cm: { metadata: { name: string }; data?: unknown }): string => `${cm.metadata.name} ${Object.entries((cm.data ?? {}) as Record<string, string>).sort().map(([a, b]) => `${a}=${b}`).join(',')}`
  out.push(['configmap create', cmText(await json(['create', '-f', '-'], manifest({ kind: 'ConfigMap', metadata: { name: 'c1', labels: { app: 'conf' } }, data: { a: '1' } })))])
  out.push(['configmap get', cmText(await json(['get', 'configmap', 'c1']))])
  out.push(['configmap list by label', ((await json(['get', 'configmaps', '-l', 'app=conf'])).items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name).join(',')])
  out.push(['configmap patch', cmText(await json(['patch', 'configmap', 'c1', '--type=merge', '-p', '{"data":{"a":"2"}}']))])
  out.push(['get missing', failureOf(await k(['get', 'configmap', 'nope', '-v=6']))])
  out.push(['create duplicate', failureOf(await k(['create', '-f', '-', '-v=6'], manifest({ kind: 'ConfigMap', metadata: { name: 'c1' } })))])
  out.push(['create invalid', failureOf(await k(['create', '-f', '-', '-v=6'], manifest({ kind: 'ConfigMap', metadata: { name: 'Bad_Name' } })))])
  await json(['create', '-f', '-'], manifest({ kind: 'Secret', metadata: { name: 's1' }, data: { token: Buffer.from('secret').toString('base64') } }))
  const s = await json(['get', 'secret', 's1'])
  out.push(['secret get', `${s.metadata.name} ${String(s.type)} token=${Buffer.from(String((s.data as Record<string, string>).token), 'base64').toString()}`])
  await json(['create', '-f', '-'], manifest({ kind: 'Service', metadata: { name: 'svc1' }, spec: { selector: { app: 'conf' }, ports: [{ port: 80 }] } }))
  const svc = await json(['get', 'service', 'svc1'])
  out.push(['service get', `${svc.metadata.name} ${(svc.spec as { ports: Array<{ port: number }> }).ports[0]!.port}`])
  await json(['create', '-f', '-'], manifest({ kind: 'ServiceAccount', metadata: { name: 'sa1' } }))
  out.push(['serviceaccount get', (await json(['get', 'serviceaccount', 'sa1'])).metadata.name])
  const can = await k(['auth', 'can-i', 'create', 'pods', '--subresource=exec'])
  out.push(['access review', `allowed=${can.stdout.trim() === 'yes'}`])

  // kubectl get -w lists, then watches from the list's resourceVersion: changes start once it watches.
  const watched = sim.audit.length
  const w = spawn('kubectl', ['--kubeconfig', sim.kubeconfig, 'get', 'configmaps', '-n', ns, '--field-selector', 'metadata.name=w1', '--watch-only', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}'])
  let events = ''
  w.stdout.on('data', (d: Buffer) => (events += d.toString()))
  while (!sim.audit.slice(watched).some((e) => e.verb === 'watch' && e.resource === 'configmaps' && e.namespace === ns)) await new Promise((r) => setTimeout(r, 20))
  await json(['create', '-f', '-'], manifest({ kind: 'ConfigMap', metadata: { name: 'w1' } }))
  await json(['patch', 'configmap', 'w1', '--type=merge', '-p', '{"data":{"x":"y"}}'])
  await k(['delete', 'configmap', 'w1'])
  while (!events.includes('DELETED')) await new Promise((r) => setTimeout(r, 20))
  w.kill()
  out.push(['watch', events.trim().split('\n').join(', ')])

  await json(['create', '-f', '-'], manifest({
    kind: 'Pod', metadata: { name: 'p1' },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', "trap 'exit 0' TERM; echo hello; while true; do sleep 0.05; done"], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  }))
  while ((await k(['get', 'pod', 'p1', '-o', 'jsonpath={.status.phase}'])).stdout !== 'Running') await new Promise((r) => setTimeout(r, 50))
  out.push(['pod running', 'Running'])
  while ((await k(['logs', 'p1'])).stdout === '') await new Promise((r) => setTimeout(r, 50))
  out.push(['pod log', (await k(['logs', 'p1'])).stdout])
  const ex = await k(['exec', 'p1', '--', 'sh', '-c', 'echo out; exit 3'])
  out.push(['pod exec', `${ex.stdout.trim()} exit=${ex.code}`])
  // kubectl delete prints no object; its raw DELETE prints the API server's answer.
  const del = JSON.parse((await kubectl(sim.kubeconfig, ['delete', '--raw', `/api/v1/namespaces/${ns}/pods/p1`])).stdout) as { metadata: { deletionGracePeriodSeconds?: number; deletionTimestamp?: string } }
  out.push(['pod delete', `deletionGracePeriodSeconds=${del.metadata.deletionGracePeriodSeconds} deletionTimestamp=${del.metadata.deletionTimestamp !== undefined}`])
  for (;;) {
    const r = await k(['get', 'pod', 'p1', '-v=6'])
    if (r.code !== 0) {
      out.push(['pod gone', failureOf(r).split(' ')[0]!])
      break
    }
    await new Promise((res) => setTimeout(res, 50))
  }
  await k(['delete', 'configmap/c1', 'secret/s1', 'service/svc1', 'serviceaccount/sa1'])
  out.push(['cleanup', failureOf(await k(['get', 'configmap', 'c1', '-v=6']))])
  return out
}

describe('conformance: kubectl, the Python client and client-node 2 on Node 22 see the simulator as a real API server', () => {
  let sim: Sim
  const transcripts: Record<string, Promise<Array<[string, string]>>> = {}
  beforeAll(async () => {
    const s = loadScenario('healthy')
    s.knobs = { ...s.knobs, clockFactor: 0.01 }
    s.objects = [...s.objects, ...['conf-kubectl', 'conf-python', 'conf-node'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))]
    sim = await start(s)
    // The three run at once, each in a namespace of its own.
    if (hasKubectl) transcripts.kubectl = kubectlSteps(sim, 'conf-kubectl')
    if (python) transcripts.python = run(python, [path.join(here, 'python_client.py'), sim.kubeconfig, 'conf-python'])
    if (prefix) transcripts['client-node'] = run(path.join(prefix, 'node_modules', '.bin', 'node'), [path.join(here, 'client-node.mjs'), prefix, sim.kubeconfig, 'conf-node'])
    for (const t of Object.values(transcripts)) t.catch(() => undefined)
  })
  afterAll(async () => {
    await Promise.allSettled(Object.values(transcripts))
    await sim?.stop()
  })

  for (const client of ['kubectl', 'python', 'client-node']) {
    it.runIf(inCI || !missing[client])(`${client}`, async () => {
      if (missing[client]) throw new Error(`conformance client ${client} is missing in CI: ${missing[client]}`)
      expect(await transcripts[client]).toEqual(EXPECTED)
    })
  }

  it('the simulator hit no bug and every object the clients made is gone', async () => {
    await Promise.allSettled(Object.values(transcripts))
    expect(sim.bugs()).toEqual([])
    for (const ns of ['conf-kubectl', 'conf-python', 'conf-node']) {
      for (const r of ['pods', 'configmaps', 'secrets', 'services']) expect(sim.store.list(findResource('', 'v1', r)!, ns)).toEqual([])
      expect(sim.store.list(findResource('', 'v1', 'serviceaccounts')!, ns).map((o) => o.metadata.name)).toEqual(['default'])
    }
  })
})
