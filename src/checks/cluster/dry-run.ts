import { defineCheck } from '../types.js'
import { matchMessage } from '../../catalog/match.js'
import { isCatalogId } from '../../catalog/ids.js'
import { adviceFor } from '../../catalog/advice.js'

export default defineCheck({
  id: 'cluster-dry-run',
  area: 'cluster',
  title: 'The API server accepts the objects of a job (server-side dry-run)',
  description: 'Submits the credentials secret and the build pod exactly as the runner renders them, with dryRun=All: admission webhooks, Pod Security, policy engines, ResourceQuota and LimitRange answer as they would for a real job, and nothing is persisted. Each rejection is quoted as the API server words it and mapped to the catalog.',
  severity: 'fail',
  needs: ['dryRun'],
  catalog: ['webhook-denied', 'quota-exceeded', 'limit-range-violation', 'request-did-not-complete-within-requested-timeout', 'error-only-read-only-root-filesystem-container-is-allowed', 'pod-security-admission', 'service-account-missing'],
  run: ({ facts, config, runner }) =>
    facts.dryRun!.ok
      ? facts.dryRun!.value.filter((d) => !d.accepted).map((d) => {
          const m = matchMessage(d.message ?? '')
          const id = m?.id && isCatalogId(m.id) ? m.id : 'webhook-denied'
          // Where the rejection says what it wants (a label, a verb), the fix is that exact change.
          const advice = m ? adviceFor(id, m.fields) : undefined
          return {
            message: `creating ${d.kind} ${d.name} is rejected (${d.status}${d.reason ? ` ${d.reason}` : ''}): ${d.message}`,
            at: config.locate([...runner.path, 'kubernetes']),
            catalog: [id],
            fix: advice
              ? { text: `${advice.text.join(' ')} (gkr catalog show ${id})`, ...(advice.snippet ? { [advice.snippet.lang]: advice.snippet.text } : {}) }
              : { text: `See \`gkr catalog show ${id}\`${m ? `: ${m.title}` : ''}.` },
            details: { kind: d.kind, status: d.status, reason: d.reason, ...(m ? { fields: m.fields } : {}) },
          }
        })
      : [],
})
