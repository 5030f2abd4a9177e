/**
 * The columns `kubectl get` shows for workloads (the API server's printers for Deployments,
 * ReplicaSets, Jobs and CronJobs), as rows of strings.
 */
import type { ResourceDef } from './resources.js'
import type { Obj } from './store.js'

/** A duration as the printers show it: 45s, 3m, 5h, 2d (Kubernetes' HumanDuration, coarsely). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`
}

const age = (ts: unknown, now: number): string => (typeof ts === 'string' ? humanDuration(now - Date.parse(ts)) : '<unknown>')
const n = (v: unknown): number => (typeof v === 'number' ? v : 0)
type Conditions = Array<{ type?: string; status?: string }>
const has = (o: Obj, type: string): boolean => (((o.status as { conditions?: Conditions } | undefined)?.conditions) ?? []).some((c) => c.type === type && c.status === 'True')

function jobStatus(o: Obj): string {
  if (o.metadata.deletionTimestamp) return 'Terminating'
  for (const t of ['Failed', 'Complete', 'FailureTarget', 'SuccessCriteriaMet', 'Suspended']) if (has(o, t)) return t
  return 'Running'
}

function jobCompletions(o: Obj): string {
  const spec = (o.spec ?? {}) as { completions?: unknown; parallelism?: unknown }
  const succeeded = n((o.status as { succeeded?: unknown } | undefined)?.succeeded)
  return typeof spec.completions === 'number' ? `${succeeded}/${spec.completions}` : `${succeeded}/1 of ${n(spec.parallelism)}`
}

function jobDuration(o: Obj, now: number): string {
  const st = (o.status ?? {}) as { startTime?: unknown; completionTime?: unknown }
  if (typeof st.startTime !== 'string') return ''
  return humanDuration((typeof st.completionTime === 'string' ? Date.parse(st.completionTime) : now) - Date.parse(st.startTime))
}

/** Column names and each object's cells, or undefined for a kind without a printer here. */
export function workloadColumns(def: ResourceDef, now = Date.now()): { columns: string[]; cells: (o: Obj) => string[] } | undefined {
  const spec = (o: Obj): Record<string, unknown> => (o.spec ?? {}) as Record<string, unknown>
  const status = (o: Obj): Record<string, unknown> => (o.status ?? {}) as Record<string, unknown>
  if (def.group === 'apps' && def.resource === 'deployments') {
    return { columns: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age'], cells: (o) => [o.metadata.name!, `${n(status(o).readyReplicas)}/${n(spec(o).replicas)}`, String(n(status(o).updatedReplicas)), String(n(status(o).availableReplicas)), age(o.metadata.creationTimestamp, now)] }
  }
  if (def.group === 'apps' && def.resource === 'replicasets') {
    return { columns: ['Name', 'Desired', 'Current', 'Ready', 'Age'], cells: (o) => [o.metadata.name!, String(n(spec(o).replicas)), String(n(status(o).replicas)), String(n(status(o).readyReplicas)), age(o.metadata.creationTimestamp, now)] }
  }
  if (def.group === 'batch' && def.resource === 'jobs') {
    return { columns: ['Name', 'Status', 'Completions', 'Duration', 'Age'], cells: (o) => [o.metadata.name!, jobStatus(o), jobCompletions(o), jobDuration(o, now), age(o.metadata.creationTimestamp, now)] }
  }
  if (def.group === 'batch' && def.resource === 'cronjobs') {
    return {
      columns: ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age'],
      cells: (o) => [o.metadata.name!, String(spec(o).schedule ?? ''), typeof spec(o).timeZone === 'string' ? String(spec(o).timeZone) : '<none>', String(spec(o).suspend === true ? 'True' : 'False'), String(Array.isArray(status(o).active) ? (status(o).active as unknown[]).length : 0), typeof status(o).lastScheduleTime === 'string' ? age(status(o).lastScheduleTime, now) : '<none>', age(o.metadata.creationTimestamp, now)],
    }
  }
  return undefined
}
