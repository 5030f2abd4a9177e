/**
 * The short-lived probe pod behind `gkr doctor --live`: shaped like a job pod (same service account, node
 * selector, affinity, tolerations, DNS policy/config, pull secrets, security context, helper image), it
 * resolves the GitLab host and the cluster's API service name and reads its interface MTU, prints the
 * results to its log and exits. The pod is recorded in a ledger before it is created and always deleted,
 * also on failure, timeout or abort. The checks that judge the result live in src/checks (H6).
 */
import type { CoreV1Event, KubeConfig, V1Pod } from '@kubernetes/client-node'
import type { LoadedRunner } from '../config/types.js'
import { systemClock, type Clock } from './clock.js'
import { CleanupLedger } from './ledger.js'
import { ObjectClient, refOf, rejectionOf, withRun, type KubeObject } from './objects.js'

export const CLUSTER_DNS_NAME = 'kubernetes.default.svc'

export interface ProbeDns {
  host: string
  resolved: boolean
  addresses?: string[]
  error?: string
}

export interface ProbeResult {
  /** From the create call until the pod ran (or undefined if it never did). */
  timeToReadyMs?: number
  dns: ProbeDns[]
  mtu?: number
  /** Warning events about the probe pod, as `<reason>: <message>`. */
  events: string[]
  error?: string
}

export interface ProbeTarget {
  namespace: string
  kubeConfig?: KubeConfig
  /** Injected in tests instead of kubeConfig. */
  client?: Pick<ObjectClient, 'create' | 'readPod' | 'podLog' | 'podWarnings' | 'delete'> & Partial<Pick<ObjectClient, 'readBack'>>
}

export interface ProbeOptions {
  runner: LoadedRunner
  /** The rendered job (H2's RenderedJob); only its pod is used, as the model for the probe pod. */
  rendered: { pod: KubeObject }
  gitlabHost: string
  signal?: AbortSignal
  clock?: Clock
  /** Suffix for the pod name (random by default). */
  nameSuffix?: string
}

const SPEC_FIELDS = [
  'serviceAccountName', 'automountServiceAccountToken', 'nodeSelector', 'nodeName', 'affinity', 'tolerations',
  'dnsPolicy', 'dnsConfig', 'hostAliases', 'imagePullSecrets', 'securityContext', 'priorityClassName',
  'runtimeClassName', 'schedulerName',
] as const

/** The probe's shell script: one `gkr-dns` line per host, one `gkr-mtu` line. */
export function probeScript(hosts: string[]): string {
  const lookups = hosts.map((h) => {
    const q = `'${h.replace(/'/g, '')}'`
    return `a=$( (getent hosts ${q} 2>/dev/null | awk '{print $1}') || true); ` +
      `[ -n "$a" ] || a=$(nslookup ${q} 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $NF}'); ` +
      `echo "gkr-dns ${h.replace(/'/g, '')} $(echo $a)"`
  })
  return [...lookups, 'echo "gkr-mtu $(cat /sys/class/net/eth0/mtu 2>/dev/null)"'].join('\n')
}

export function probePod(model: KubeObject, namespace: string, name: string, hosts: string[]): KubeObject {
  const spec = (model.spec ?? {}) as Record<string, unknown>
  const containers = (spec.containers ?? []) as { name?: string; image?: string; imagePullPolicy?: string; securityContext?: unknown }[]
  const helper = containers.find((c) => c.name === 'helper') ?? containers[0]
  const copied = Object.fromEntries(SPEC_FIELDS.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]]))
  const labels = { ...((model.metadata?.labels as Record<string, string> | undefined) ?? {}), 'gkr.dev/probe': 'true' }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      ...copied,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [{
        name: 'probe',
        image: helper?.image ?? 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:latest',
        ...(helper?.imagePullPolicy ? { imagePullPolicy: helper.imagePullPolicy } : {}),
        ...(helper?.securityContext ? { securityContext: helper.securityContext } : {}),
        command: ['sh', '-c', probeScript(hosts)],
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
      }],
    },
  }
}

export function parseProbeLog(log: string, hosts: string[]): { dns: ProbeDns[]; mtu?: number } {
  const dns: ProbeDns[] = hosts.map((host) => ({ host, resolved: false, error: 'no answer from the probe' }))
  let mtu: number | undefined
  for (const line of log.split('\n')) {
    const d = /^gkr-dns (\S+)\s*(.*)$/.exec(line.trim())
    if (d) {
      const entry = dns.find((x) => x.host === d[1])
      if (!entry) continue
      const addresses = d[2]!.split(/\s+/).filter(Boolean)
      if (addresses.length > 0) Object.assign(entry, { resolved: true, addresses, error: undefined })
      else entry.error = `${d[1]} did not resolve`
      if (entry.error === undefined) delete entry.error
    }
    const m = /^gkr-mtu (\d+)/.exec(line.trim())
    if (m) mtu = Number(m[1])
  }
  return mtu === undefined ? { dns } : { dns, mtu }
}

export async function runProbe(target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const clock = opts.clock ?? systemClock
  const signal = opts.signal ?? new AbortController().signal
  const client = target.client ?? new ObjectClient(requireKubeConfig(target))
  const k = (opts.runner.settings.kubernetes ?? {}) as Record<string, unknown>
  const interval = seconds(k.poll_interval, 3) * 1000
  const timeout = seconds(k.poll_timeout, 180) * 1000
  const cleanupTimeout = seconds(k.cleanup_resources_timeout, 300) * 1000
  const hosts = [opts.gitlabHost, CLUSTER_DNS_NAME]
  const name = `gkr-probe-${opts.nameSuffix ?? Math.random().toString(36).slice(2, 8)}`
  const ledger = new CleanupLedger()
  // Carries the run's identity as every object gkr creates, so an unanswered create is read back before it is deleted.
  const pod = withRun(probePod(opts.rendered.pod, target.namespace, name, hosts), ledger.runId)
  const events = new Set<string>()
  const result: ProbeResult = { dns: hosts.map((host) => ({ host, resolved: false })), events: [] }
  const started = clock.now()
  try {
    ledger.record(refOf(pod, target.namespace))
    const created = await client.create(pod, target.namespace).catch((err: unknown) => {
      // Refused by the API: nothing was created, so the name is not the probe's to delete.
      const r = rejectionOf(err)
      if (r && r.status < 500) ledger.refused(refOf(pod, target.namespace))
      throw err
    })
    ledger.created(refOf(pod, target.namespace), created.metadata?.uid)
    let last: V1Pod | undefined
    for (let waited = 0; ; waited += interval) {
      signal.throwIfAborted()
      last = await client.readPod(target.namespace, name)
      const phase = last.status?.phase
      if (result.timeToReadyMs === undefined && (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed')) {
        result.timeToReadyMs = clock.now() - started
      }
      if (phase === 'Succeeded' || phase === 'Failed') break
      await collectEvents(client, target.namespace, name, events)
      const waiting = last.status?.containerStatuses?.[0]?.state?.waiting
      if (waiting?.reason && /ImagePull|InvalidImageName|CreateContainer/.test(waiting.reason)) {
        throw new Error(`probe pod cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim())
      }
      if (waited >= timeout) throw new Error(`timed out waiting for pod to start (last phase: ${phase ?? 'Pending'})`)
      await clock.sleep(interval, signal)
    }
    Object.assign(result, parseProbeLog(await client.podLog(target.namespace, name, 'probe'), hosts))
  } catch (err) {
    const r = rejectionOf(err)
    result.error = r ? r.message : err instanceof Error ? err.message.split('\n')[0] : String(err)
    await collectEvents(client, target.namespace, name, events).catch(() => undefined)
  } finally {
    const readBack = client.readBack?.bind(client)
    const report = await ledger.cleanup((ref, _s, uid) => client.delete(ref, uid), { timeoutMs: cleanupTimeout, clock, ...(readBack ? { readBack: (ref) => readBack(ref) } : {}) })
    if (report.left.length > 0) {
      const left = `probe pod not deleted (${report.left[0]!.reason}); remove it with: ${report.commands.join('; ')}`
      result.error = result.error ? `${result.error}; ${left}` : left
    }
  }
  result.events = [...events]
  // Interrupted: the pod is gone (cleanup ran above); the caller learns of the interrupt, not a result.
  if (signal.aborted) throw signal.reason
  return result
}

async function collectEvents(client: Pick<ObjectClient, 'podWarnings'>, ns: string, name: string, into: Set<string>): Promise<void> {
  let list: CoreV1Event[] = []
  try {
    list = await client.podWarnings(ns, name)
  } catch {
    return
  }
  for (const e of list) into.add(`${e.reason ?? ''}: ${e.message ?? ''}`)
}

function seconds(v: unknown, dflt: number): number {
  return typeof v === 'number' && v > 0 ? v : dflt
}

function requireKubeConfig(target: ProbeTarget): KubeConfig {
  if (!target.kubeConfig) throw new Error('runProbe needs a kubeConfig or a client')
  return target.kubeConfig
}
