import { defineCheck, type FindingInput } from '../types.js'
import { KUBERNETES_FIELDS } from '../../config/schema.js'
import { parseGoDuration, re2Problem } from '../../config/values.js'
import { atKube, k8s, str, tomlFix, written } from './util.js'

export default defineCheck({
  id: 'config-values',
  area: 'config',
  title: 'Durations, regular expressions and enumerated values are ones the runner accepts',
  description: 'cleanup_resources_timeout must be a Go duration, every *_overwrite_allowed a Go (RE2) regular expression, and dns_policy, helper_image_flavor, pod_spec patch types and similar keys one of their documented values. A bad duration stops the runner from loading the file; a bad regex makes every job that uses the overwrite fail; a bad DNS policy is dropped with only a warning in the job log.',
  severity: 'fail',
  needs: [],
  catalog: ['config-invalid'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const out: FindingInput[] = []
    const timeout = kc.cleanup_resources_timeout
    if (typeof timeout === 'string' && written(ctx, 'cleanup_resources_timeout')) {
      const ms = parseGoDuration(timeout)
      if (ms === undefined) out.push({ message: `cleanup_resources_timeout = ${JSON.stringify(timeout)} is not a duration: the runner cannot load the file`, at: atKube(ctx, 'cleanup_resources_timeout'), fix: { text: 'Use a Go duration such as "5m" or "90s".', toml: tomlFix(ctx, 'runners.kubernetes', { cleanup_resources_timeout: '5m' }) } })
      else if (ms <= 0) out.push({ severity: 'warn', message: `cleanup_resources_timeout = ${JSON.stringify(timeout)} is not positive: the runner uses 5m instead`, at: atKube(ctx, 'cleanup_resources_timeout'), fix: { text: 'Set a positive duration.' } })
    }
    for (const [key, def] of Object.entries(KUBERNETES_FIELDS)) {
      const v = str(kc[key])
      if (!v) continue
      if (def.kind === 'regex') {
        const problem = re2Problem(v)
        if (problem) out.push({ message: `${key} = ${JSON.stringify(v)} is not a valid Go regular expression (${problem}): jobs that set the matching KUBERNETES_* variable fail`, at: atKube(ctx, key), fix: { text: 'Write an RE2 expression, e.g. "^ci-.*$".' } })
      }
      if (def.enum && def.kind === 'string' && !def.enum.includes(v)) {
        const severity = key === 'dns_policy' ? 'warn' : 'fail'
        // The runner puts any flavor into the helper image tag (<flavor>-<arch>-v<version>): no such image is published.
        const effect = key === 'dns_policy' ? 'the runner falls back to the cluster default ("unsupported kubernetes-dns-policy")' : key === 'helper_image_flavor' ? `the runner builds the helper tag ${v}-<arch>-v<version> from it, which is not published, so pulling the helper image fails` : 'the runner rejects it'
        out.push({ severity, message: `${key} = ${JSON.stringify(v)} is not one of ${def.enum.filter(Boolean).join(', ')}: ${effect}`, at: atKube(ctx, key), fix: { text: `Use one of: ${def.enum.filter(Boolean).join(', ')}.` } })
      }
    }
    const patches = Array.isArray(kc.pod_spec) ? kc.pod_spec : []
    patches.forEach((p, n) => {
      const t = (p as Record<string, unknown>).patch_type
      if (typeof t === 'string' && t !== '' && !['strategic', 'merge', 'json'].includes(t)) out.push({ message: `pod_spec[${n}].patch_type = ${JSON.stringify(t)} is not strategic, merge or json`, at: atKube(ctx, 'pod_spec', n, 'patch_type'), fix: { text: 'Use "strategic", "merge" or "json".' } })
    })
    if (patches.length > 0 && !ctx.runner.featureFlags.FF_USE_ADVANCED_POD_SPEC_CONFIGURATION) {
      out.push({ severity: 'warn', message: 'pod_spec patches are set but FF_USE_ADVANCED_POD_SPEC_CONFIGURATION is off: the runner ignores them', at: atKube(ctx, 'pod_spec'), fix: { text: 'Turn the feature flag on.', toml: '[[runners]]\n  [runners.feature_flags]\n    FF_USE_ADVANCED_POD_SPEC_CONFIGURATION = true' } })
    }
    const backoff = kc.retry_backoff_max
    if (typeof backoff === 'number' && written(ctx, 'retry_backoff_max') && backoff > 0 && backoff < 500) {
      out.push({ severity: 'warn', message: `retry_backoff_max = ${backoff} is below the 500 ms minimum: the runner uses 500`, at: atKube(ctx, 'retry_backoff_max'), fix: { text: 'Set at least 500 (milliseconds).', toml: tomlFix(ctx, 'runners.kubernetes', { retry_backoff_max: 500 }) } })
    }
    return out
  },
})
