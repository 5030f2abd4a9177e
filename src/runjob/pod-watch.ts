/**
 * The runner's pod watcher while the job runs: a container of the job pod that enters
 * CrashLoopBackOff (a service that keeps exiting, under a restartPolicy a pod_spec patch changed)
 * ends the job with the runner's words, `container "<name>" is in CrashLoopBackOff: <message>`.
 * The runner gets pod updates from an informer; gkr reads the pod every poll interval.
 */
import type { Clock } from './clock.js'
import type { Explain } from './dryrun.js'
import type { ObjectClient } from './objects.js'
import { jobFailure } from './prepare.js'

export interface PodWatch {
  client: Pick<ObjectClient, 'readPod'>
  namespace: string
  pod: string
  clock: Clock
  intervalMs: number
  signal: AbortSignal
  explain?: Explain
}

/** Rejects with the job failure once a container is in CrashLoopBackOff; with the signal's reason when it aborts. */
export async function watchPodContainers(w: PodWatch): Promise<never> {
  for (;;) {
    await w.clock.sleep(Math.max(1, w.intervalMs), w.signal)
    let pod
    try {
      pod = await w.client.readPod(w.namespace, w.pod)
    } catch {
      // A failed read is no verdict; the next poll tries again (the job's own steps see a gone pod).
      continue
    }
    for (const cs of pod.status?.containerStatuses ?? []) {
      const waiting = cs.state?.waiting
      if (waiting?.reason !== 'CrashLoopBackOff') continue
      const message = `ERROR: Job failed (system failure): container "${cs.name}" is in CrashLoopBackOff: ${waiting.message ?? ''}`.trimEnd()
      throw jobFailure(message, w.explain?.(message))
    }
  }
}
