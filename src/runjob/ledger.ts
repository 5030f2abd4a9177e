/**
 * The cleanup ledger: every object run-job (or the probe) creates is recorded here BEFORE its create call
 * is sent, so a create that fails half-way, a timeout or an interrupt can never leave something behind
 * that cleanup does not know about. Every object gkr creates carries the run's identity (the label
 * RUN_LABEL with a random id drawn per ledger), so cleanup deletes only what this run created, newest
 * first, within the runner's cleanup_resources_timeout: an object the API answered the create of is
 * deleted with its uid as a precondition (a 409 then means the name belongs to someone else now, and it
 * is left alone); a create the API refused (409 AlreadyExists, 401, 403, 422…) made nothing, so its name
 * is never deleted; a create that got no answer (timeout, dropped connection, a 5xx) is read back first
 * and deleted, with its uid, only when it carries this run's identity. Before an object is reported as
 * left it is read back (by name, uid compared): only what really exists is.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from './clock.js'

/** The label every object gkr creates carries: the id of the run (of its ledger) that created it. */
export const RUN_LABEL = 'gkr.dev/run'

export interface ObjectRef {
  apiVersion: string
  /** Kind as the API names it: Pod, Secret, Service, ConfigMap, PodDisruptionBudget. */
  kind: string
  namespace: string
  name: string
}

/**
 * recorded: create sent, no answer yet (or none ever: timeout, interrupt); created: the API returned it;
 * refused: the API refused the create, nothing of ours exists; not-ours: the name now holds another object.
 */
export type EntryState = 'recorded' | 'created' | 'refused' | 'deleted' | 'absent' | 'not-ours' | 'collected' | 'left'

export interface LedgerEntry extends ObjectRef {
  state: EntryState
  uid?: string
  /** Why the object is left, when cleanup could not delete it. */
  reason?: string
  /** The API answered its create (or a read back found it carrying this run's identity). */
  answered?: boolean
  /** It carries an ownerReference to the run's pod: once the pod is deleted, the garbage collector removes it. */
  owned?: boolean
  /** Giving it the ownerReference got no answer: the pod may own it (the garbage collector then removes it). */
  mayBeOwned?: boolean
  /** Cleanup could neither delete it nor read it back: a delete whose answer was lost may have removed it. */
  unverified?: boolean
}

/**
 * Deletes one object, with `uid` as a precondition when given; resolves 'not-found' when it is already
 * gone and 'conflict' when the precondition failed (the name holds another object). Rejects otherwise.
 */
export type DeleteObject = (ref: ObjectRef, signal: AbortSignal, uid?: string) => Promise<'deleted' | 'not-found' | 'conflict'>

/**
 * Reads an object back by name: its uid and the run id it carries (RUN_LABEL), or undefined when there is
 * none. Rejects when it cannot tell.
 */
export type ReadBack = (ref: ObjectRef, signal: AbortSignal) => Promise<{ uid: string; run?: string } | undefined>

export interface CleanupReport {
  deleted: ObjectRef[]
  /** Objects whose create call may have reached the API but were never seen: not found on delete. */
  absent: ObjectRef[]
  /** Names that hold another party's object now (uid precondition failed, or read back with another uid): not touched. */
  notOurs: ObjectRef[]
  /**
   * uncertain: whether it exists is not known: its create was sent but never answered, or it could not be
   * read back after a failed delete (whose answer may have been lost after the delete).
   */
  left: (ObjectRef & { reason: string; uncertain?: 'unanswered' | 'unverified' })[]
  /** Not deleted by cleanup, but owned by the pod cleanup deleted: the garbage collector removes them. */
  collected: ObjectRef[]
  /** kubectl commands that remove what is left (empty when nothing is). */
  commands: string[]
  timedOut: boolean
  abandoned: boolean
}

export interface CleanupOptions {
  timeoutMs: number
  clock: Clock
  /**
   * When given, an object whose create got no answer is read back (and deleted only when it carries this
   * run's identity), and what could not be deleted is read back before it is reported as left. Without
   * it, such an object is deleted by name.
   */
  readBack?: ReadBack
}

const READ_BACK_TIMEOUT_MS = 10_000
/** How often cleanup tries an object whose read or delete failed before it reports it as left. */
const CLEANUP_PASSES = 3

const RESOURCE: Record<string, string> = {
  Pod: 'pod', Secret: 'secret', Service: 'service', ConfigMap: 'configmap', PodDisruptionBudget: 'poddisruptionbudget',
}

export class CleanupLedger {
  /** This run's identity, set as RUN_LABEL on every object it creates (random: runs never share it). */
  readonly runId: string = randomUUID()
  private readonly list: LedgerEntry[] = []
  private cleanupRun?: Promise<CleanupReport>
  private abandonController = new AbortController()

  /** Call before sending the create request. */
  record(ref: ObjectRef): LedgerEntry {
    const existing = this.find(ref)
    if (existing) return existing
    const entry: LedgerEntry = { ...ref, state: 'recorded' }
    this.list.push(entry)
    return entry
  }

  /** Call when the API answered the create call with the object. */
  created(ref: ObjectRef, uid?: string): void {
    const entry = this.find(ref) ?? this.record(ref)
    entry.state = 'created'
    entry.answered = true
    if (uid !== undefined) entry.uid = uid
  }

  /** Call when the API answered the create call with an error: nothing was created, so cleanup never deletes the name. */
  refused(ref: ObjectRef): void {
    const entry = this.find(ref) ?? this.record(ref)
    if (entry.state === 'recorded') entry.state = 'refused'
  }

  /** Call when giving it an ownerReference got no answer (or a 5xx): the pod may own it, or may not. */
  mayBeOwned(ref: ObjectRef): void {
    const entry = this.find(ref)
    if (entry) entry.mayBeOwned = true
  }

  /** Call when the object was given an ownerReference to the run's pod. */
  owned(ref: ObjectRef): void {
    const entry = this.find(ref)
    if (entry) entry.owned = true
  }

  get entries(): readonly LedgerEntry[] {
    return this.list
  }

  /** Objects not known to be gone. */
  outstanding(): LedgerEntry[] {
    return this.list.filter((e) => e.state === 'recorded' || e.state === 'created' || e.state === 'left')
  }

  /** kubectl commands that remove every outstanding object. */
  kubectlCommands(): string[] {
    return kubectlDelete([...this.outstanding()].reverse())
  }

  /** Stop a running cleanup now (second Ctrl-C); the report then lists what is left. */
  abandon(): void {
    this.abandonController.abort(new Error('cleanup abandoned'))
  }

  /**
   * Deletes every outstanding object, newest first, within `timeoutMs`. Safe to call more than once
   * (the second call waits for the first). Never throws: failures end up in `left`.
   */
  cleanup(deleteObject: DeleteObject, opts: CleanupOptions): Promise<CleanupReport> {
    this.cleanupRun ??= this.runCleanup(deleteObject, opts)
    return this.cleanupRun
  }

  private async runCleanup(deleteObject: DeleteObject, { timeoutMs, clock, readBack }: CleanupOptions): Promise<CleanupReport> {
    const stop = new AbortController()
    let timedOut = false
    const onAbandon = (): void => stop.abort(new Error('cleanup abandoned'))
    if (this.abandonController.signal.aborted) onAbandon()
    else this.abandonController.signal.addEventListener('abort', onAbandon, { once: true })
    const timer = new AbortController()
    void clock.sleep(timeoutMs, timer.signal).then(
      () => {
        timedOut = true
        stop.abort(new Error(`cleanup_resources_timeout (${Math.round(timeoutMs / 1000)}s) reached`))
      },
      () => undefined,
    )
    const report: CleanupReport = { deleted: [], absent: [], notOurs: [], left: [], collected: [], commands: [], timedOut: false, abandoned: false }
    try {
      // What failed is tried again (up to CLEANUP_PASSES in all, within the timeout): a 504 or an error the
      // retry policy does not repeat may pass the next time, and an object left for a hiccup is still left.
      for (let pass = 0; pass < CLEANUP_PASSES && !stop.signal.aborted; pass++) {
        const todo = [...this.outstanding()].reverse().filter((e) => pass === 0 || e.state === 'left')
        if (todo.length === 0) break
        for (const entry of todo) {
          if (stop.signal.aborted) break
          const ref = toRef(entry)
          try {
            if (entry.uid === undefined && readBack) {
              // The create was sent but not answered: whether it exists, and whose it is, only a read can tell.
              const found = await Promise.race([readBack(ref, stop.signal), aborted(stop.signal)])
              if (found === undefined) {
                entry.state = 'absent'
                report.absent.push(ref)
                continue
              }
              if (found.run !== this.runId) {
                entry.state = 'not-ours'
                report.notOurs.push(ref)
                continue
              }
              entry.state = 'created'
              entry.answered = true
              entry.uid = found.uid
            }
            const result = await Promise.race([deleteObject(ref, stop.signal, entry.uid), aborted(stop.signal)])
            delete entry.reason
            if (result === 'deleted') {
              entry.state = 'deleted'
              report.deleted.push(ref)
            } else if (result === 'conflict') {
              entry.state = 'not-ours'
              report.notOurs.push(ref)
            } else {
              entry.state = 'absent'
              report.absent.push(ref)
            }
          } catch (err) {
            entry.state = 'left'
            entry.reason = stop.signal.aborted ? reasonOf(stop.signal.reason) : reasonOf(err)
          }
        }
      }
      // What the pod owns goes with it: once the pod is deleted, a dependent cleanup could not delete is the garbage collector's.
      if (this.list.some((e) => e.kind === 'Pod' && (e.state === 'deleted' || e.state === 'absent'))) {
        for (const entry of this.outstanding()) {
          // Perhaps owned: the garbage collector may remove it, so if it cannot be read back it is reported as one that may be gone.
          if (!entry.owned && entry.mayBeOwned) entry.unverified = true
          if (!entry.owned) continue
          entry.state = 'collected'
          report.collected.push(toRef(entry))
        }
      }
    } finally {
      timer.abort()
      this.abandonController.signal.removeEventListener('abort', onAbandon)
    }
    report.timedOut = timedOut
    report.abandoned = this.abandonController.signal.aborted
    if (readBack && !report.abandoned) await this.readBack(readBack, report, clock)
    for (const entry of [...this.outstanding()].reverse()) {
      const uncertain = !entry.answered ? 'unanswered' : entry.unverified ? 'unverified' : undefined
      entry.state = 'left'
      entry.reason ??= stop.signal.aborted ? reasonOf(stop.signal.reason) : 'not deleted'
      report.left.push({ ...toRef(entry), reason: entry.reason, ...(uncertain ? { uncertain } : {}) })
    }
    report.commands = kubectlDelete(report.left)
    return report
  }

  /**
   * Reads back every object cleanup could not delete: one that is gone (the garbage collector removed a
   * dependent of the pod, say) or that carries another uid is not a leftover of this run. Bounded by a
   * few seconds of its own, since the cleanup timeout may have passed; an object that cannot be read stays
   * reported.
   */
  private async readBack(readBack: ReadBack, report: CleanupReport, clock: Clock): Promise<void> {
    const stop = new AbortController()
    const timer = new AbortController()
    void clock.sleep(READ_BACK_TIMEOUT_MS, timer.signal).then(() => stop.abort(new Error('read back timed out')), () => undefined)
    const onAbandon = (): void => stop.abort(new Error('cleanup abandoned'))
    this.abandonController.signal.addEventListener('abort', onAbandon, { once: true })
    try {
      for (const entry of [...this.outstanding()].reverse()) {
        if (stop.signal.aborted) break
        const ref = toRef(entry)
        try {
          const found = await Promise.race([readBack(ref, stop.signal), aborted(stop.signal)])
          if (found === undefined) {
            entry.state = 'absent'
            report.absent.push(ref)
          } else if (entry.uid !== undefined ? found.uid !== entry.uid : found.run !== this.runId) {
            entry.state = 'not-ours'
            report.notOurs.push(ref)
          } else {
            entry.uid = found.uid
            entry.answered = true
          }
        } catch {
          // Cannot tell: it stays reported as left, as one that may already be gone.
          entry.unverified = true
        }
      }
    } finally {
      timer.abort()
      this.abandonController.signal.removeEventListener('abort', onAbandon)
    }
  }

  private find(ref: ObjectRef): LedgerEntry | undefined {
    return this.list.find((e) => e.kind === ref.kind && e.name === ref.name && e.namespace === ref.namespace)
  }
}

export function kubectlDelete(refs: readonly ObjectRef[]): string[] {
  const byNs = new Map<string, string[]>()
  for (const r of refs) {
    const list = byNs.get(r.namespace) ?? []
    list.push(`${RESOURCE[r.kind] ?? r.kind.toLowerCase()}/${r.name}`)
    byNs.set(r.namespace, list)
  }
  return [...byNs].map(([ns, names]) => `kubectl delete --ignore-not-found -n ${ns} ${names.join(' ')}`)
}

const UNCERTAIN: Record<string, string> = {
  unanswered: ' (the create was sent but never answered: it may not exist)',
  unverified: ' (it could not be read back: it may already be gone)',
}

/** One paragraph saying what cleanup left, for the terminal. */
export function describeLeftovers(report: CleanupReport): string {
  if (report.left.length === 0) return ''
  const why = report.abandoned ? 'Cleanup was abandoned' : report.timedOut ? 'Cleanup timed out' : 'Cleanup could not delete everything'
  const lines = report.left.map((l) => `  ${l.kind} ${l.namespace}/${l.name}: ${l.reason}${UNCERTAIN[l.uncertain ?? ''] ?? ''}`)
  return `${why}; left in the cluster:\n${lines.join('\n')}\nRemove them with:\n${report.commands.map((c) => `  ${c}`).join('\n')}\n`
}

/**
 * What to tell the user when cleanup is abandoned (second Ctrl-C) and the process exits at once: every
 * object not known to be gone, and the kubectl command that removes it. Objects whose create call was
 * sent but not answered are listed too (`--ignore-not-found` makes that harmless).
 */
export function describeAbandoned(ledger: CleanupLedger): string {
  const left = [...ledger.outstanding()].reverse()
  if (left.length === 0) return 'Cleanup abandoned; gkr had nothing left in the cluster.\n'
  const owned = left.some((e) => e.kind !== 'Pod') && left.some((e) => e.kind === 'Pod' && e.state === 'created')
  const lines = left.map((e) => `  ${e.kind} ${e.namespace}/${e.name}${e.state === 'recorded' ? ' (create was sent, may not exist)' : ''}`)
  return [
    `Cleanup abandoned; ${left.length} object(s) gkr created may be left in the cluster:`,
    ...lines,
    'Remove them with:',
    ...ledger.kubectlCommands().map((c) => `  ${c}`),
    ...(owned ? ['Objects that already carry an ownerReference to the pod also go once the pod is deleted (garbage collector).'] : []),
  ].join('\n') + '\n'
}

const toRef = (e: ObjectRef): ObjectRef => ({ apiVersion: e.apiVersion, kind: e.kind, namespace: e.namespace, name: e.name })

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error)
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]!
  return String(err)
}
