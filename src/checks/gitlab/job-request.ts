import { defineCheck } from '../types.js'

/** Above this, a job request that should be answered at once is considered stuck. */
export const SLOW_JOB_REQUEST_MS = 10_000

export default defineCheck({
  id: 'gitlab-job-request',
  area: 'gitlab',
  title: 'A job request to GitLab does not hang',
  description:
    'Sends `POST /api/v4/jobs/request` with a deliberately invalid token, so GitLab answers at once and can never hand out a job, over the same path (proxies, load balancers) the runner uses. A request that hangs there is why a registered runner never runs jobs and jobs end without a trace.',
  severity: 'fail',
  needs: ['gitlab'],
  catalog: ['runner-pod-fails-to-run-job-results-and-times-out-despite-successful-registration'],
  run({ facts, runner, config }) {
    const g = facts.gitlab!.ok ? facts.gitlab!.value : undefined
    if (!g || g.reach.status === undefined) return { skipped: 'GitLab did not answer (see gitlab-url-reachable)' }
    const p = g.jobRequest
    if (!p) return { skipped: 'job request not probed' }
    const at = config.locate([...runner.path, 'url'])
    if (p.status === undefined) {
      return [
        {
          message: `POST ${g.url}/api/v4/jobs/request got no answer (${p.error ?? 'error'} after ${p.ms} ms) while other requests did`,
          at,
          details: { ms: p.ms, error: p.error },
          fix: { text: 'Look for a proxy or load balancer that holds POST requests to /api/v4/jobs/request open (long-polling timeouts, buffering) and fix its timeouts.' },
        },
      ]
    }
    if (p.ms > SLOW_JOB_REQUEST_MS) {
      return [{ message: `POST ${g.url}/api/v4/jobs/request took ${p.ms} ms to answer`, severity: 'warn', at, details: { ms: p.ms, status: p.status } }]
    }
    return []
  },
})
