/**
 * Prepare stage of a live run: create the job's secrets/config maps/services, then the pod, then give
 * every other object an ownerReference to the pod; then wait for the pod as the runner does (poll_interval,
 * poll_timeout), reporting Pending reasons and warning events. Every object is in the ledger before its
 * create call is sent, so a failure at any point leaves nothing that cleanup does not know about.
 */
import type { V1Pod } from '@kubernetes/client-node'
import { EXIT } from '../cli/exit-codes.js'
import { GkrError, incompleteError } from '../util/errors.js'
import type { Clock } from './clock.js'
import type { Explain, Explanation } from './dryrun.js'
import type { CleanupLedger } from './ledger.js'
import { refOf, rejectionOf, runOf, withRun, type KubeObject, type ObjectClient } from './objects.js'
import type { ObjectRef } from './ledger.js'

export interface PrepareInput {
  /** With `read`, a create that meets AlreadyExists is read back: the run's own object (an earlier try went through) is adopted. */
  client: Pick<ObjectClient, 'create' | 'setOwner' | 'readPod' | 'podWarnings'> & Partial<Pick<ObjectClient, 'read'>>
  ledger: CleanupLedger
  namespace: string
  /** Rendered objects in the runner's creation order; exactly one Pod. */
  objects: KubeObject[]
  pollIntervalMs: number
  pollTimeoutMs: number
  printWarningEvents: boolean
  clock: Clock
  signal: AbortSignal
  /** One line of the job log (Pending reasons, warning events). */
  log: (line: string) => void
  explain?: Explain
  /** Container whose readiness means "running" (the runner waits for `build`). */
  buildContainer?: string
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])
const TERMINAL_WAITING = new Set(['CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError'])

/** A failure of the job's Prepare stage: exit 1 (job failed), with the catalog entry explaining it. */
export function jobFailure(message: string, explanation: Explanation | undefined, cause?: unknown, code = 'job-failed'): GkrError {
  return new GkrError(code, message, {
    exit: EXIT.FAILED,
    ...(explanation ? { ref: explanation.id, suggestions: explanation.fix ? [explanation.fix] : [] } : {}),
    ...(cause === undefined ? {} : { cause }),
  })
}

export async function preparePod(input: PrepareInput): Promise<V1Pod> {
  const { client, ledger, namespace, objects, signal, explain } = input
  const podObj = objects.find((o) => o.kind === 'Pod')
  if (!podObj) throw new Error('the rendered job has no pod')
  const created: KubeObject[] = []

  const create = async (rendered: KubeObject, what: string): Promise<KubeObject> => {
    signal.throwIfAborted()
    // Every object carries the run's identity, so a read back can tell this run's object from another's.
    const obj = withRun(rendered, ledger.runId)
    const ref = refOf(obj, namespace)
    ledger.record(ref)
    try {
      const out = await client.create(obj, ref.namespace)
      ledger.created(ref, out.metadata?.uid)
      return out
    } catch (err) {
      const r = rejectionOf(err)
      if (r?.status === 409 && r.reason === 'AlreadyExists') {
        // A try whose answer was lost may have created it: if it carries this run's identity, it is ours.
        const mine = await readOwn(client, ref, ledger.runId)
        if (mine) {
          ledger.created(ref, mine.metadata?.uid)
          return mine
        }
        if (mine === null) ledger.refused(ref)
      } else if (r && r.status < 500) {
        // The API refused it: it created nothing, so the name (maybe another run's object) is not ours to delete.
        ledger.refused(ref)
      }
      // No answer, or a 5xx (a timeout may come after the write): the entry stays unanswered, and cleanup reads it back.
      throw apiFailure(err, `setting up build pod: ${what} ${ref.name}`, explain)
    }
  }

  for (const obj of objects) {
    if (obj === podObj) continue
    created.push(await create(obj, `creating ${String(obj.kind).toLowerCase()}`))
  }
  const pod = await create(podObj, 'creating pod')
  for (const obj of created) {
    signal.throwIfAborted()
    try {
      await client.setOwner(obj, pod)
      ledger.owned(refOf(obj, namespace))
    } catch (err) {
      // No answer, or a 5xx: the update may have been carried out, so the pod may own it after all.
      const r = rejectionOf(err)
      if (!r || r.status >= 500) ledger.mayBeOwned(refOf(obj, namespace))
      throw apiFailure(err, 'error setting ownerReferences', explain)
    }
  }
  return waitForPod(input, pod.metadata?.name ?? '', pod.metadata?.namespace ?? namespace)
}

async function waitForPod(input: PrepareInput, name: string, namespace: string): Promise<V1Pod> {
  const { client, clock, signal, log, explain, printWarningEvents } = input
  const interval = Math.max(1, input.pollIntervalMs)
  const polls = Math.floor(input.pollTimeoutMs / interval)
  const seenEvents = new Set<string>()
  const reasons: string[] = []
  let phase = 'Pending'
  for (let i = 0; i <= polls; i++) {
    signal.throwIfAborted()
    let pod: V1Pod
    try {
      pod = await client.readPod(namespace, name)
    } catch (err) {
      throw apiFailure(err, 'waiting for pod running', explain)
    }
    phase = pod.status?.phase ?? 'Pending'
    if (phase === 'Running' && buildReady(pod, input.buildContainer ?? 'build')) return pod
    if (phase === 'Succeeded') throw jobFailure('pod already succeeded before it begins running', undefined)
    if (phase === 'Failed') throw jobFailure('pod status is failed', explainAll(explain, reasons))
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const w = cs.state?.waiting
      if (!w?.reason) continue
      const detail = `${w.reason}: ${w.message ?? ''}`.trim()
      if (IMAGE_PULL.has(w.reason)) throw jobFailure(`image pull failed: ${w.message ?? w.reason}`, explainAll(explain, [detail, `image pull failed: ${w.reason}`]), undefined, 'image-pull-failed')
      if (TERMINAL_WAITING.has(w.reason)) throw jobFailure(`pod failed to enter running state: container ${cs.name}: ${detail}`, explainAll(explain, [detail]))
    }
    log(`Waiting for pod ${namespace}/${name} to be running on the node ${pod.spec?.nodeName ?? '<unknown>'}, status is ${phase}`)
    for (const c of pod.status?.conditions ?? []) {
      if (c.reason && c.status !== 'True') {
        log(`\t${c.reason}: "${c.message ?? ''}"`)
        reasons.push(`${c.reason}: ${c.message ?? ''}`)
      }
    }
    if (printWarningEvents) {
      try {
        for (const e of await client.podWarnings(namespace, name)) {
          const key = e.metadata?.uid ?? `${e.reason}/${e.message}`
          if (seenEvents.has(key)) continue
          seenEvents.add(key)
          log(`\tWarning ${e.reason ?? ''}: ${e.message ?? ''}`)
          reasons.push(`${e.reason ?? ''}: ${e.message ?? ''}`)
        }
      } catch {
        // The runner ignores failures to list events (debug only); so do we.
      }
    }
    if (i < polls) await clock.sleep(interval, signal)
  }
  const message = `waiting for pod running: timed out waiting for pod to start (last phase: ${phase})`
  throw jobFailure(message, explainAll(explain, [...reasons.reverse(), message]))
}

/**
 * The line the runner ends a job with when Prepare fails: its stage wrapper adds "prepare environment"
 * and the shell-profile hint; image pull failures are build errors, everything else a system failure.
 */
export function prepareFailureLine(code: string, message: string): string {
  const kind = code === 'image-pull-failed' ? 'Job failed' : 'Job failed (system failure)'
  return `ERROR: ${kind}: prepare environment: ${message}. Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information`
}

function buildReady(pod: V1Pod, build: string): boolean {
  const statuses = pod.status?.containerStatuses ?? []
  const named = statuses.find((s) => s.name === build)
  return named ? named.ready : statuses.every((s) => s.ready)
}

/**
 * The object by that name when it carries this run's identity; null when it is another's (or gone);
 * undefined when it cannot be told (no read, or the read failed), so the ledger entry stays unanswered.
 */
async function readOwn(client: PrepareInput['client'], ref: ObjectRef, runId: string): Promise<KubeObject | null | undefined> {
  if (!client.read) return null
  try {
    const found = await client.read(ref)
    return found && runOf(found) === runId ? found : null
  } catch {
    return undefined
  }
}

function explainAll(explain: Explain | undefined, texts: string[]): Explanation | undefined {
  if (!explain) return undefined
  for (const t of texts) {
    const e = explain(t)
    if (e) return e
  }
  return undefined
}

function apiFailure(err: unknown, context: string, explain: Explain | undefined): GkrError {
  // An unreachable server (after the retries ClusterTarget.call made), said with the step it stopped.
  if (err instanceof GkrError && err.exit === EXIT.INCOMPLETE && err.code.startsWith('kube-') && err.code !== 'kube-unauthorized') {
    return incompleteError('cluster-unreachable', `${context}: cannot reach the cluster: ${err.message}`, { ...(err.ref ? { ref: err.ref } : {}), suggestions: err.suggestions, cause: err })
  }
  if (err instanceof GkrError) return err
  if (err instanceof Error && err.name === 'AbortError') return new GkrError('interrupted', 'interrupted', { exit: EXIT.INTERRUPTED })
  const r = rejectionOf(err)
  if (!r) {
    return incompleteError('cluster-unreachable', `${context}: cannot reach the cluster: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err })
  }
  if (r.status === 401) {
    return incompleteError('unauthorized', `${context}: the API server did not accept gkr's credentials (HTTP 401 Unauthorized): ${r.message}`, {
      cause: err, suggestions: ['Check the token or client certificate of the kubeconfig context (kubectl auth whoami); it may have expired.'],
    })
  }
  const message = `${context}: ${r.message}`
  return jobFailure(message, explain?.(r.message), err)
}
