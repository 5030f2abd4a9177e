import { defineCheck, type FindingInput } from '../types.js'

const KNOWN: Record<string, string> = {
  'datadog-webhook': 'Datadog admission controller: label the runner pods with admission.datadoghq.com/enabled: "false" (pod_labels) to opt out',
}

export default defineCheck({
  id: 'cluster-webhooks',
  area: 'cluster',
  title: 'Admission webhooks that intercept job pods are fast, dry-run safe and optional for them',
  description: 'Webhooks whose rules and selectors catch the runner\'s pods add their latency to every pod create; with failurePolicy Fail a slow or unreachable webhook fails jobs with "request did not complete within requested timeout" or "failed calling webhook"; with sideEffects Unknown or Some they refuse server-side dry runs.',
  severity: 'warn',
  needs: ['webhooks'],
  catalog: ['request-did-not-complete-within-requested-timeout', 'webhook-denied'],
  run: ({ facts, config, runner }) => {
    const out: FindingInput[] = []
    for (const w of (facts.webhooks!.ok ? facts.webhooks!.value : []).filter((x) => x.interceptsPods)) {
      const at = config.locate([...runner.path, 'kubernetes', 'pod_labels'])
      const known = Object.entries(KNOWN).find(([k]) => w.name.includes(k) || w.configuration.includes(k))
      if (w.failurePolicy === 'Fail' && w.timeoutSeconds > 10) out.push({ message: `${w.kind} webhook ${w.name} intercepts job pods with failurePolicy Fail and timeoutSeconds ${w.timeoutSeconds}: when it is slow, pod creation fails ("request did not complete within requested timeout")`, at, catalog: ['request-did-not-complete-within-requested-timeout'], fix: { text: `Exclude the runner namespace or pods from the webhook (namespaceSelector/objectSelector), lower its timeoutSeconds, or set failurePolicy Ignore.${known ? ` ${known[1]}.` : ''}`, toml: '[[runners]]\n  [runners.kubernetes.pod_labels]\n    "admission.datadoghq.com/enabled" = "false"' } })
      if (!['None', 'NoneOnDryRun'].includes(w.sideEffects)) out.push({ severity: 'info', message: `${w.kind} webhook ${w.name} has sideEffects ${w.sideEffects}: the API server refuses dry-run requests it would intercept, so \`gkr run-job --dry-run\` and this doctor cannot preview pod admission`, at, fix: { text: 'Ask its owner to declare sideEffects: None (or NoneOnDryRun).' } })
    }
    return out
  },
})
