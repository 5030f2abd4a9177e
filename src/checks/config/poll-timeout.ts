import { defineCheck, type FindingInput } from '../types.js'
import { atKube, k8s, tomlFix, written } from './util.js'

export const DOCUMENTED_POLL_TIMEOUT = 180

export default defineCheck({
  id: 'config-poll-timeout',
  area: 'config',
  title: 'poll_timeout leaves pods time to start, and poll_interval is below it',
  description: 'The runner waits poll_timeout seconds (default 180) for the build pod to run, checking every poll_interval seconds, then fails the job with "timed out waiting for pod to start". Pods need that time to be scheduled, for a node to scale up and for images to be pulled; a short timeout fails jobs on a busy or autoscaling cluster, a long one makes stuck jobs wait longer before failing.',
  severity: 'warn',
  needs: [],
  catalog: ['job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const timeout = typeof kc.poll_timeout === 'number' && kc.poll_timeout > 0 ? kc.poll_timeout : DOCUMENTED_POLL_TIMEOUT
    const interval = typeof kc.poll_interval === 'number' && kc.poll_interval > 0 ? kc.poll_interval : 3
    const out: FindingInput[] = []
    if (interval >= timeout) {
      out.push({ severity: 'fail', message: `poll_interval (${interval} s) is not below poll_timeout (${timeout} s): the runner checks the pod at most once before giving up`, at: atKube(ctx, written(ctx, 'poll_interval') ? 'poll_interval' : 'poll_timeout'), fix: { text: 'Keep poll_interval a small fraction of poll_timeout.', toml: tomlFix(ctx, 'runners.kubernetes', { poll_interval: 3, poll_timeout: Math.max(timeout, DOCUMENTED_POLL_TIMEOUT) }) } })
    }
    if (timeout < DOCUMENTED_POLL_TIMEOUT) {
      const pool = Object.keys((kc.node_selector as object) ?? {}).length > 0 || Object.keys((kc.node_tolerations as object) ?? {}).length > 0
      out.push({
        message: `poll_timeout = ${timeout} s is below the documented default of ${DOCUMENTED_POLL_TIMEOUT} s: jobs fail with "timed out waiting for pod to start" whenever scheduling, a node scale-up${pool ? ' of the selected node pool' : ''} or an image pull takes longer`,
        at: atKube(ctx, 'poll_timeout'),
        fix: { text: `Raise poll_timeout to cover the slowest pod start you expect (scale-up plus image pull); ${DOCUMENTED_POLL_TIMEOUT} s or more. A longer timeout only delays the failure of pods that never start.`, toml: tomlFix(ctx, 'runners.kubernetes', { poll_timeout: pool ? 600 : DOCUMENTED_POLL_TIMEOUT }) },
      })
    }
    return out
  },
})
