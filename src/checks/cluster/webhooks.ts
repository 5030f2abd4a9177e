import { defineCheck, type FindingInput } from '../types.js'
import type { WebhookFact } from '../facts.js'
import type { RenderedJob } from '../../executor/render.js'

/**
 * Admission controllers known to change or delay job pods, and the pod label or annotation that
 * opts a pod out of them. The runner sets these through pod_labels / pod_annotations.
 */
export const KNOWN_INTERCEPTORS: ReadonlyArray<{ match: RegExp; product: string; effect: string; optOut: { table: 'pod_labels' | 'pod_annotations'; key: string; value: string } }> = [
  { match: /datadog/i, product: 'Datadog admission controller', effect: 'injects the APM library init container and environment variables into every job pod', optOut: { table: 'pod_labels', key: 'admission.datadoghq.com/enabled', value: 'false' } },
  { match: /istio|sidecar-injector/i, product: 'Istio sidecar injector', effect: 'adds an istio-proxy sidecar that keeps running after the build, so the job pod does not finish and its network is blocked until the proxy is ready', optOut: { table: 'pod_labels', key: 'sidecar.istio.io/inject', value: 'false' } },
  { match: /linkerd/i, product: 'Linkerd proxy injector', effect: 'adds a linkerd-proxy sidecar and init container to every job pod', optOut: { table: 'pod_annotations', key: 'linkerd.io/inject', value: 'disabled' } },
]

/** The known interceptor a webhook belongs to, if any. */
export function knownInterceptor(w: Pick<WebhookFact, 'name' | 'configuration'>): (typeof KNOWN_INTERCEPTORS)[number] | undefined {
  return KNOWN_INTERCEPTORS.find((k) => k.match.test(w.name) || k.match.test(w.configuration))
}

/** The config.toml table that sets one opt-out on every job pod. */
export function optOutToml(o: (typeof KNOWN_INTERCEPTORS)[number]['optOut']): string {
  return `[[runners]]\n  [runners.kubernetes.${o.table}]\n    "${o.key}" = "${o.value}"`
}

export default defineCheck({
  id: 'cluster-webhooks',
  area: 'cluster',
  title: 'Admission webhooks that intercept job objects are reachable, fast, dry-run safe and optional for them',
  description: 'Webhooks whose rules, namespaceSelector and objectSelector catch the pods, secrets, config maps or services a job creates sit in the path of every job. With failurePolicy Fail, a webhook whose service has no ready endpoints fails every create ("failed calling webhook … no endpoints available"), and a slow one fails it with "request did not complete within requested timeout". With sideEffects Unknown or Some they refuse server-side dry runs. Known injectors (Datadog, Istio, Linkerd) change job pods unless the pod opts out with a label or annotation.',
  severity: 'warn',
  needs: ['webhooks'],
  catalog: ['request-did-not-complete-within-requested-timeout', 'webhook-denied'],
  run: ({ facts, config, runner, rendered }) => {
    const r = rendered as RenderedJob | undefined
    const podLabels = r?.pod.metadata?.labels ?? {}
    const podAnnotations = r?.pod.metadata?.annotations ?? {}
    const out: FindingInput[] = []
    const all = facts.webhooks!.ok ? facts.webhooks!.value : []
    for (const w of all.filter((x) => x.interceptsPods || (x.intercepts ?? []).length > 0)) {
      const kinds = w.intercepts ?? (w.interceptsPods ? ['pods'] : [])
      const what = kinds.join(', ')
      const known = knownInterceptor(w)
      const at = config.locate([...runner.path, 'kubernetes', known?.optOut.table ?? 'pod_labels'])
      const exclude = `Exclude the runner's namespace or pods from it (namespaceSelector/objectSelector)${known ? `, or opt the job pods out with ${known.optOut.key}: "${known.optOut.value}"` : ''}`
      const optOutFix = known ? { toml: optOutToml(known.optOut) } : {}
      const svc = w.service ? `${w.service.namespace}/${w.service.name}` : ''
      if (w.readyEndpoints === 0) {
        out.push({
          severity: w.failurePolicy === 'Fail' ? 'fail' : 'warn',
          message: w.failurePolicy === 'Fail'
            ? `${w.kind} webhook ${w.name} intercepts job ${what} with failurePolicy Fail, and its service ${svc} has no ready endpoints: every job fails at create with 'failed calling webhook "${w.name}": … no endpoints available for service "${w.service!.name}"'`
            : `${w.kind} webhook ${w.name} intercepts job ${what}, and its service ${svc} has no ready endpoints: failurePolicy Ignore lets jobs through, but each create waits for the call to fail first`,
          at,
          catalog: ['webhook-denied'],
          fix: { text: `Bring the webhook's backend back (kubectl -n ${w.service!.namespace} get pods,endpoints), or ${exclude.charAt(0).toLowerCase()}${exclude.slice(1)}.`, ...optOutFix },
          details: { webhook: w.name, configuration: w.configuration, service: svc, readyEndpoints: 0, failurePolicy: w.failurePolicy },
        })
      }
      if (w.failurePolicy === 'Fail' && w.timeoutSeconds > 10) {
        out.push({ message: `${w.kind} webhook ${w.name} intercepts job ${what} with failurePolicy Fail and timeoutSeconds ${w.timeoutSeconds}: when it is slow, creation fails ("request did not complete within requested timeout")`, at, catalog: ['request-did-not-complete-within-requested-timeout'], fix: { text: `${exclude}, lower its timeoutSeconds, or set failurePolicy Ignore.`, ...optOutFix }, details: { webhook: w.name, timeoutSeconds: w.timeoutSeconds } })
      }
      if (known && w.interceptsPods) {
        const set = (known.optOut.table === 'pod_labels' ? podLabels : podAnnotations)[known.optOut.key]
        if (set !== known.optOut.value) {
          out.push({ message: `${w.kind} webhook ${w.name} is the ${known.product}: it ${known.effect}`, at, fix: { text: `Opt the job pods out with the ${known.optOut.table === 'pod_labels' ? 'label' : 'annotation'} ${known.optOut.key}: "${known.optOut.value}".`, toml: optOutToml(known.optOut) }, details: { webhook: w.name, product: known.product, optOut: known.optOut } })
        }
      }
      if (!['None', 'NoneOnDryRun'].includes(w.sideEffects)) out.push({ severity: 'info', message: `${w.kind} webhook ${w.name} has sideEffects ${w.sideEffects}: the API server refuses dry-run requests it would intercept, so \`gkr run-job --dry-run\` and this doctor cannot preview job admission`, at, fix: { text: 'Ask its owner to declare sideEffects: None (or NoneOnDryRun).' } })
    }
    return out
  },
})
