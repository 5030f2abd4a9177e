import type { LoadedRunner, ValuesFromRef } from '../config/types.js'
import type { FetchedValues } from '../config/helm.js'
import { ApiError } from '../kube/errors.js'
import type { Facts } from '../checks/facts.js'
import { kube } from '../config/load.js'
import { gatherGitlabFacts } from '../gitlab/facts.js'
import { renderJob } from '../executor/render.js'
import { requiredPermissions } from '../executor/permissions.js'
import { impersonate, resolveCluster, type ClusterTarget } from '../kube/connect.js'
import { gatherFacts } from '../kube/gather.js'
import { GkrError, usageError } from '../util/errors.js'
import { runProbe } from '../runjob/probe.js'
import type { KubeObject } from '../runjob/objects.js'
import type { ClusterInfo } from './report.js'
import type { Gathered } from './run.js'

/**
 * Doctor checks a representative job: one with registry credentials, so the credentials secret the
 * runner creates for most jobs is part of the dry-run and of the quota arithmetic. The credentials
 * are a placeholder and the secret is only ever submitted with dryRun=All.
 */
export const REPRESENTATIVE_JOB = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('gkr:placeholder').toString('base64') } } }) }

export interface Connection {
  /** Present when a cluster was found. */
  cluster?: ClusterInfo
  gather: (runner: LoadedRunner, signal: AbortSignal) => Promise<Gathered>
  /** Reads the ConfigMaps and Secrets a Flux HelmRelease's valuesFrom names (present with a cluster). */
  readValuesFrom?: (refs: readonly ValuesFromRef[]) => Promise<FetchedValues[]>
}

type DataObject = { data?: Record<string, string> | null }

/**
 * One read per named object (Flux, too, reads each once), with the key's text: a Secret's data is
 * base64. Not found and forbidden are answers about the reference, not failures of doctor.
 */
async function readValuesFrom(target: ClusterTarget, refs: readonly ValuesFromRef[], fallbackNamespace: string): Promise<FetchedValues[]> {
  const reads = new Map<string, Promise<DataObject | ApiError | GkrError>>()
  const out: FetchedValues[] = []
  for (const ref of refs) {
    const namespace = ref.namespace ?? fallbackNamespace
    if (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret') {
      out.push({ ref, namespace, unreadable: `Flux reads values only from a ConfigMap or a Secret, not ${ref.kind || 'an object without kind'}` })
      continue
    }
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${ref.kind === 'Secret' ? 'secrets' : 'configmaps'}/${encodeURIComponent(ref.name)}`
    // An unreachable server is reported by the cluster-connection result; here it only leaves the values unread.
    if (!reads.has(path)) reads.set(path, target.getJson<DataObject>(path).catch((err: unknown) => (err instanceof ApiError || err instanceof GkrError ? err : Promise.reject(err))))
    const obj = await reads.get(path)!
    if (obj instanceof GkrError) {
      out.push({ ref, namespace, unreadable: obj.message })
      continue
    }
    if (obj instanceof ApiError) {
      if (obj.status === 404) out.push({ ref, namespace, missing: 'object' })
      else out.push({ ref, namespace, unreadable: obj.status === 403 ? `get ${ref.kind === 'Secret' ? 'secrets' : 'configmaps'} is forbidden` : obj.message, ...(obj.status === 403 ? { forbidden: true } : {}) })
      continue
    }
    const raw = obj.data?.[ref.valuesKey]
    if (typeof raw !== 'string') out.push({ ref, namespace, missing: 'key' })
    else out.push({ ref, namespace, text: ref.kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw })
  }
  return out
}

/** How doctor finds the cluster; besides the environment, tests inject where ~ and the mounted service account are. */
/** The flags of doctor that say how to reach the cluster and as whom (doctor's own flags extend these). */
export interface ClusterFlags {
  runner?: string
  live: boolean
  kubeconfig?: string
  'request-timeout'?: number
  context?: string
  namespace?: string
  as?: string
  'as-group'?: string[]
  'as-runner': boolean
}

export interface ConnectOptions {
  signal: AbortSignal
  env?: NodeJS.ProcessEnv
  home?: string
  /** The service account directory of in-cluster configuration (token, ca.crt, namespace). */
  serviceAccountDir?: string
}

/** The identity permissions are checked as: --as, or with --as-runner the runner's service account. */
export function identityFor(flags: Pick<ClusterFlags, 'as' | 'as-runner' | 'namespace'>, runner: LoadedRunner | undefined): string | undefined {
  if (flags.as) return flags.as
  if (!flags['as-runner'] || !runner) return undefined
  const k = kube(runner)
  const sa = typeof k.service_account === 'string' && k.service_account ? k.service_account : 'default'
  const ns = flags.namespace ?? (typeof k.namespace === 'string' && k.namespace ? k.namespace : 'default')
  return `system:serviceaccount:${ns}:${sa}`
}

async function gitlabFacts(runner: LoadedRunner, signal: AbortSignal): Promise<Facts['gitlab']> {
  try {
    return { ok: true, value: await gatherGitlabFacts(runner, { signal, timeoutMs: 10_000 }) }
  } catch (err) {
    signal.throwIfAborted()
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

/** doctor's first retry of a transient failure, before the runner's 500 ms schedule. */
const DOCTOR_QUICK_RETRY_MS = 100

/**
 * How doctor reads facts: GitLab (the runner's url and token) always when not offline, and the
 * cluster when one is found the way the runner finds it.
 */
export async function connect(flags: ClusterFlags, runners: readonly LoadedRunner[], opts: ConnectOptions): Promise<Connection> {
  if (flags['as-runner'] && runners.length > 1 && !flags.runner) throw usageError('as-runner-ambiguous', '--as-runner checks as one runner\'s service account: choose the runner with --runner', { at: { flag: '--as-runner' } })
  const first = runners[0]
  const target = await resolveCluster({
    ...(first ? { runner: first } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags['request-timeout'] ? { timeoutMs: flags['request-timeout'] } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.home ? { home: opts.home } : {}),
    ...(opts.serviceAccountDir ? { serviceAccountDir: opts.serviceAccountDir } : {}),
    // Reads and dry-runs only: one quick retry before the runner's backoff (see RetryPolicy).
    retry: { quickRetryMs: DOCTOR_QUICK_RETRY_MS },
  })
  if (!target) {
    return { gather: async (runner, signal) => ({ facts: { gitlab: await gitlabFacts(runner, signal) } }) }
  }
  const as = identityFor(flags, first)
  const groups = flags['as-group'] ?? []
  // Checked before any request: impersonating groups without a user is refused by the API server.
  if (groups.length > 0 && !as) impersonate(target.kc, undefined, groups)
  return {
    readValuesFrom: (refs) => readValuesFrom(target, refs, flags.namespace ?? target.info.namespace ?? 'default'),
    cluster: { server: target.info.server, source: target.info.source, ...(target.info.context ? { context: target.info.context } : {}), ...(target.info.namespace ? { namespace: target.info.namespace } : {}), ...(as ?? target.info.identity ? { identity: as ?? target.info.identity } : {}) },
    gather: async (runner, signal) => {
      const rendered = renderJob({ runner, variables: REPRESENTATIVE_JOB, ...(flags.namespace ? { namespace: flags.namespace } : {}) })
      const [cluster, gitlab] = await Promise.all([
        gatherFacts(target, { runner, rendered, permissions: requiredPermissions(runner), ...(identityFor(flags, runner) ? { as: identityFor(flags, runner)! } : {}), ...(groups.length ? { asGroups: groups } : {}) }, { signal }),
        gitlabFacts(runner, signal),
      ])
      const facts = { ...cluster.facts, gitlab }
      if (flags.live) {
        // The one thing doctor creates: a probe pod shaped like a job pod, always deleted again.
        const url = typeof runner.settings.url === 'string' ? runner.settings.url : ''
        const host = url ? new URL(url).hostname : 'gitlab.com'
        // The probe runs as the identity checked (--as, --as-runner), its exec and log streams included.
        const probeAs = identityFor(flags, runner)
        try {
          facts.probe = { ok: true, value: await runProbe({ namespace: rendered.namespace, kubeConfig: impersonate(target.kc, probeAs, probeAs ? groups : []) }, { runner, rendered: { pod: rendered.pod as unknown as KubeObject }, gitlabHost: host, signal }) }
        } catch (err) {
          signal.throwIfAborted()
          facts.probe = { ok: false, reason: err instanceof Error ? err.message : String(err) }
        }
      }
      return { facts, rendered, stats: cluster.stats }
    },
  }
}
