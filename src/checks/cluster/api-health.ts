import { defineCheck } from '../types.js'
import { matchMessage } from '../../catalog/match.js'

export default defineCheck({
  id: 'cluster-api-health',
  area: 'cluster',
  title: 'The API server answers promptly and without errors',
  description: 'Latency and errors of the requests doctor made. A slow or erroring API server is what "context deadline exceeded" and etcd errors in job logs come from; the runner retries some of them (retry_limit, retry_backoff_max).',
  severity: 'warn',
  needs: ['apiStats'],
  catalog: ['context-deadline-exceeded'],
  run: ({ facts, config, runner }) => {
    const s = facts.apiStats!.ok ? facts.apiStats!.value : undefined
    if (!s) return []
    const out = []
    if (s.p95Ms > 2000) out.push({ message: `the API server is slow: 95% of ${s.requests} requests took up to ${Math.round(s.p95Ms)} ms`, at: config.locate([...runner.path, 'kubernetes', 'retry_limit']), fix: { text: 'Check the API server load (and admission webhooks); raise retry_limit/retry_backoff_max to ride out short spikes.' } })
    const retried = s.retries ? `; doctor needed ${s.retries} ${s.retries === 1 ? 'retry' : 'retries'} (as the runner would, within retry_limit) to get its answers` : ''
    const internal = s.internalErrors ?? 0
    if (internal > 0) {
      // A 500 InternalError is a failure on the request's way (a webhook the API server could not call), not the API server's own.
      const webhooks = [...new Set((s.internalMessages ?? []).map((m) => matchMessage(m)?.fields.webhook).filter((w): w is string => Boolean(w)))]
      const named = webhooks.length > 0 ? `admission webhook${webhooks.length === 1 ? '' : 's'} ${webhooks.map((w) => `"${w}"`).join(', ')}` : undefined
      out.push({
        message: named
          ? `${internal} of ${s.requests} API requests failed with 500 InternalError because the API server could not call ${named}: the webhook is at fault, not the API server or etcd`
          : `${internal} of ${s.requests} API requests failed with 500 InternalError (${JSON.stringify((s.internalMessages ?? [])[0] ?? '')}): something the API server calls on the request's way failed, not the API server or etcd`,
        at: config.locate([...runner.path, 'kubernetes', 'namespace']),
        fix: { text: named ? `Make ${named} reachable from the API server (its service needs ready endpoints), or keep the job namespace out of its namespaceSelector; cluster-webhooks names its configuration.` : 'Read the API server log for the failing call (usually an admission webhook: cluster-webhooks lists those that intercept job objects).' },
        catalog: ['request-did-not-complete-within-requested-timeout'],
        details: { internalErrors: internal, ...(webhooks.length ? { webhooks } : {}) },
      })
    }
    if (s.serverErrors > 0) out.push({ message: `${s.serverErrors} of ${s.requests} API requests failed on the server side (5xx, throttling or dropped connections)${retried}: jobs meet the same errors ("etcdserver: leader changed", "context deadline exceeded")`, at: config.locate([...runner.path, 'kubernetes', 'retry_limit']), fix: { text: 'Look for etcd leader changes, throttling (429) or overload on the API server.' } })
    return out
  },
})
