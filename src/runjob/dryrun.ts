/**
 * Dry-run of one job: every rendered object is submitted with dryRun=All, in the order the runner creates
 * them, so admission webhooks, quotas, LimitRanges and RBAC answer as they would for the real job while
 * nothing persists. Each rejection carries the catalog entry that explains it.
 */
import { stringify } from 'yaml'
import { redactObject } from '../executor/output.js'
import { tokenMasker, type Masker } from '../util/secret.js'
import { incompleteError } from '../util/errors.js'
import { refOf, rejectionOf, type KubeObject, type ObjectClient } from './objects.js'

export interface Explanation {
  /** Catalog id. */
  id: string
  title?: string
  fix?: string
}

/** The catalog matcher (src/catalog/match.ts matchMessage), injected. */
export type Explain = (message: string) => Explanation | undefined

export interface DryRunStep {
  kind: string
  name: string
  accepted: boolean
  status?: number
  reason?: string
  message?: string
  explanation?: Explanation
}

export interface DryRunResult {
  namespace: string
  accepted: boolean
  steps: DryRunStep[]
}

export interface DryRunInput {
  client: Pick<ObjectClient, 'create'>
  namespace: string
  /** Rendered objects in the runner's creation order. */
  objects: KubeObject[]
  explain?: Explain
  signal?: AbortSignal
}

export async function dryRunJob({ client, namespace, objects, explain, signal }: DryRunInput): Promise<DryRunResult> {
  const steps: DryRunStep[] = []
  for (const obj of objects) {
    signal?.throwIfAborted()
    const ref = refOf(obj, namespace)
    try {
      await client.create(obj, ref.namespace, { dryRun: true })
      steps.push({ kind: ref.kind, name: ref.name, accepted: true })
    } catch (err) {
      const r = rejectionOf(err)
      if (!r) {
        throw incompleteError('cluster-unreachable', `cannot reach the cluster: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, {
          suggestions: ['Check --kubeconfig/--context and that the API server is reachable from here.'],
          cause: err,
        })
      }
      const explanation = explain?.(r.message)
      steps.push({
        kind: ref.kind, name: ref.name, accepted: false, status: r.status, message: r.message,
        ...(r.reason ? { reason: r.reason } : {}), ...(explanation ? { explanation } : {}),
      })
    }
  }
  return { namespace, accepted: steps.every((s) => s.accepted), steps }
}

/** Objects as YAML documents or a JSON array, with every Secret value replaced by [REDACTED] and masked values by [MASKED]. */
export function formatObjects(objects: KubeObject[], format: 'yaml' | 'json', masker: Masker = tokenMasker): string {
  const safe = objects.map((o) => redact(o, masker))
  if (format === 'json') return `${JSON.stringify(safe, null, 2)}\n`
  return safe.map((o) => `---\n${stringify(o)}`).join('')
}

/** Secrets' values replaced by [REDACTED] (one implementation, in src/executor). */
export const redact = (obj: KubeObject, masker: Masker = tokenMasker): KubeObject => redactObject(obj, masker)

/** Plain-text report of a dry-run, one line per object plus the explanation of each rejection. */
export function describeDryRun(result: DryRunResult): string {
  const lines: string[] = []
  for (const s of result.steps) {
    if (s.accepted) {
      lines.push(`ok       ${s.kind}/${s.name}`)
      continue
    }
    lines.push(`rejected ${s.kind}/${s.name}: ${s.message ?? ''}`)
    if (s.explanation) {
      lines.push(`         catalog: ${s.explanation.id}${s.explanation.title ? ` (${s.explanation.title})` : ''}`)
      if (s.explanation.fix) lines.push(`         fix: ${s.explanation.fix}`)
    }
  }
  lines.push(result.accepted
    ? `Dry-run: the cluster accepts every object of the job in namespace ${result.namespace}; nothing was created.`
    : `Dry-run: ${result.steps.filter((s) => !s.accepted).length} object(s) rejected in namespace ${result.namespace}; nothing was created.`)
  return `${lines.join('\n')}\n`
}
