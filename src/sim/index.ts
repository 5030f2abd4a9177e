/**
 * gkr's simulated Kubernetes API server: `start(scenario)` serves HTTPS on a random loopback port with
 * its own CA and writes a kubeconfig (one context per identity of the scenario) and the runner
 * config.toml the scenario reproduces its failure with. Product code never imports this module; tests
 * and `gkr sim` do.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stringify } from 'yaml'
import type { Store, Obj } from './store.js'
import { ConvertingStore } from './events-v1.js'
import { RESOURCES, resourceForKind } from './resources.js'
import { SimServer, type AuditEntry, READ_VERBS } from './server.js'
import { ClusterController } from './cluster.js'
import { WorkloadControllers } from './controllers.js'
import { QuotaController } from './quota-status.js'
import { NamespaceController } from './namespaces.js'
import { extraObjects, loadScenario, type Scenario } from './scenario.js'
import { makeCerts } from './tls.js'
import { startDelayProxy, type DelayProxyStats } from './delay-proxy.js'
import { removePodDir } from './exec.js'
import { GkrError } from '../util/errors.js'
import { rfc3339 } from './time.js'

export type { Scenario } from './scenario.js'
export type { AuditEntry } from './server.js'
export { builtinScenarios, loadScenario } from './scenario.js'

export interface StartOptions {
  port?: number
  latencyMs?: number
  /**
   * Put a delay proxy in front of the server with this round-trip time, so handshakes and requests
   * cost what they cost on a real link; `url` and the kubeconfig then point at the proxy.
   */
  rttMs?: number
  /** Where kubeconfig and config.toml are written (default: a new temporary directory). */
  dir?: string
  kubeconfigPath?: string
  runnerConfigPath?: string
}

export interface Sim {
  url: string
  /** Path of the kubeconfig; its current context is the scenario's default identity. */
  kubeconfig: string
  /** Path of a kubeconfig whose current context is the named identity. */
  kubeconfigFor(identity: string): string
  /** Path of the runner config.toml of the scenario. */
  runnerConfig: string
  scenario: Scenario
  audit: AuditEntry[]
  /** Audit entries that changed the cluster (not reads, dry-runs, access reviews or the GitLab endpoints). */
  writes(): AuditEntry[]
  store: Store
  /** Errors inside the simulator (answered with 500, or hit by the scheduler/kubelet): none, or a bug. */
  bugs(): unknown[]
  caPem: string
  /** What the delay proxy saw (only with `rttMs`): connections opened and bytes each way. */
  network(): DelayProxyStats | undefined
  stop(): Promise<void>
}

export async function start(scenarioOrName: string | Scenario, opts: StartOptions = {}): Promise<Sim> {
  const scenario = typeof scenarioOrName === 'string' ? loadScenario(scenarioOrName) : scenarioOrName
  const factor = scenario.knobs.clockFactor ?? 1
  const store = new ConvertingStore()
  store.serviceAccounts = resourceForKind('v1', 'ServiceAccount')
  seedScenario(store, scenario)
  const quotas = new QuotaController(store)
  const namespaces = new NamespaceController(store)
  const certs = await makeCerts()
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms * factor))
  const controller = new ClusterController(store, scenario, factor)
  const workloads = new WorkloadControllers(store, scenario, factor)
  const server = new SimServer({ scenario, certs, store, ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}), sleep, logs: controller, bookmarkMs: 60_000 * factor, containerProcess: (uid, container) => controller.containerProcess(uid, container) })
  controller.onKill = (uid, container) => server.killContainer(uid, container)
  // After the controller's listener (which kills the pod's containers): a deleted pod's files go with it.
  const podsDef = resourceForKind('v1', 'Pod')!
  store.events.on('change', (e: { type: string; def: { resource: string }; object: Obj }) => void (e.type === 'DELETED' && e.def.resource === 'pods' && removePodDir(e.object)))
  const serverPort = await server.listen(opts.rttMs !== undefined ? 0 : (opts.port ?? 0))
  const proxy = opts.rttMs !== undefined ? await startDelayProxy({ target: { host: '127.0.0.1', port: serverPort }, rttMs: opts.rttMs, ...(opts.port !== undefined ? { port: opts.port } : {}) }) : undefined
  const url = `https://127.0.0.1:${proxy?.port ?? serverPort}`
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), `gkr-sim-${scenario.name}-`))
  const ownsDir = !opts.dir
  const kubeconfigText = (current: string): string =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: `gkr-sim-${scenario.name}`, cluster: { server: url, 'certificate-authority-data': Buffer.from(certs.caPem).toString('base64') } }],
      users: scenario.identities.map((id) => ({ name: id.name, user: { token: id.token } })),
      contexts: scenario.identities.map((id) => ({ name: id.name, context: { cluster: `gkr-sim-${scenario.name}`, user: id.name, ...(id.serviceAccount ? { namespace: id.serviceAccount.namespace } : {}) } })),
      'current-context': current,
    })
  const kubeconfig = opts.kubeconfigPath ?? path.join(dir, 'kubeconfig')
  const runnerConfig = opts.runnerConfigPath ?? path.join(dir, 'config.toml')
  const caFile = path.join(path.dirname(runnerConfig), 'sim-ca.pem')
  // A path that cannot be written (a directory, a missing folder, a name too long) is the caller's mistake: stop serving, say which file.
  const write = async (what: string, flag: string, file: string, text: string, mode?: number): Promise<void> => {
    try {
      writeFileSync(file, text, mode === undefined ? undefined : { mode })
    } catch (err) {
      controller.stop()
      workloads.stop()
      namespaces.stop()
      await server.close()
      if (ownsDir) rmSync(dir, { recursive: true, force: true })
      throw new GkrError('sim-file-unwritable', `cannot write the ${what} to ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { at: { flag }, suggestions: ['Choose a path in a directory that exists and that you can write to.'] })
    }
  }
  await write('kubeconfig', '--kubeconfig', kubeconfig, kubeconfigText(scenario.defaultIdentity), 0o600)
  await write('simulator CA certificate', '--runner-config', caFile, certs.caPem)
  // The runner's GitLab is the simulator too ({{sim.url}} / {{sim.ca}}), so nothing leaves loopback.
  await write('runner config', '--runner-config', runnerConfig, scenario.runnerConfig.replaceAll('{{sim.url}}', url).replaceAll('{{sim.ca}}', caFile), 0o600)
  return {
    url,
    kubeconfig,
    kubeconfigFor(identity: string): string {
      if (!scenario.identities.some((i) => i.name === identity)) throw new Error(`scenario ${scenario.name} has no identity ${identity}`)
      const p = path.join(dir, `kubeconfig-${identity}`)
      writeFileSync(p, kubeconfigText(identity), { mode: 0o600 })
      return p
    },
    runnerConfig,
    scenario,
    audit: server.audit,
    writes: () => server.audit.filter((e) => !e.path.startsWith('/api/v4/') && !READ_VERBS.has(e.verb) && !e.dryRun && e.group !== 'authorization.k8s.io' && e.code > 0 && e.code < 400),
    store,
    bugs: () => [...server.bugs, ...controller.bugs, ...workloads.bugs, ...namespaces.bugs],
    caPem: certs.caPem,
    network: () => proxy?.stats(),
    async stop(): Promise<void> {
      workloads.stop()
      controller.stop()
      quotas.stop()
      namespaces.stop()
      await proxy?.close()
      await server.close()
      for (const pod of store.list(podsDef)) removePodDir(pod)
      if (ownsDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Puts the scenario's objects in the store: namespaces first, then the rest, as an admin would create them. */
/** Scenario timestamps may be relative to the start: "-2h", "-15m", "-30s", "-1d". */
function timestamp(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const m = /^-(\d+)([smhd])$/.exec(v)
  if (!m) return v
  const ms = Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd']
  return rfc3339(Date.now() - ms)
}

/** Puts every object of the scenario in the store: those it lists, then those it generates or streams. */
export function seedScenario(store: Store, scenario: Scenario): void {
  seed(store, scenario.objects)
  for (const o of extraObjects(scenario)) seedOne(store, o, true)
}

function seed(store: Store, objects: Obj[]): void {
  const order = (o: Obj): number => (o.kind === 'Namespace' ? 0 : o.kind === 'Node' ? 1 : 2)
  for (const o of [...objects].sort((a, b) => order(a) - order(b))) seedOne(store, o, false)
}

/** One object; `owned`: a new one (generated or streamed), handed to the store without a copy. */
function seedOne(store: Store, o: Obj, owned: boolean): void {
  const def = resourceForKind(o.apiVersion ?? 'v1', o.kind ?? '')
  if (!def) throw new GkrError('scenario-invalid', `scenario object of unknown kind ${o.apiVersion}/${o.kind} (known: ${RESOURCES.map((r) => r.kind).join(', ')})`)
  const ts = timestamp(o.metadata.creationTimestamp)
  const deleting = timestamp(o.metadata.deletionTimestamp)
  const ns = def.namespaced ? (o.metadata.namespace ?? 'default') : undefined
  // A scenario's own `default` ServiceAccount replaces the one its namespace was given.
  if (def.resource === 'serviceaccounts' && o.metadata.name === 'default' && store.tryGet(def, ns, 'default')) store.delete(def, ns, 'default')
  if (store.tryGet(def, ns, o.metadata.name!)) throw new GkrError('scenario-invalid', `invalid scenario: ${o.kind} ${ns ? `${ns}/` : ''}${o.metadata.name} is listed (or generated) twice`, { suggestions: ['Give each object its own name; a generate entry names its objects from its name pattern.'] })
  store.create(def, ns, { ...o, metadata: { ...o.metadata, ...(ts ? { creationTimestamp: ts } : {}), ...(deleting ? { deletionTimestamp: deleting } : {}) } }, { keepTimestamp: true, owned })
}
