import { defineCheck, type FindingInput } from '../types.js'
import { KUBERNETES_FIELDS } from '../../config/schema.js'
import { formatBytes, parseQuantity } from '../../config/values.js'
import { atKube, k8s, tomlFix } from './util.js'

const RESOURCE_KEY = /^(service_|helper_|pod_)?(cpu|memory|ephemeral_storage)_(request|limit)(_overwrite_max_allowed)?$/

export default defineCheck({
  id: 'config-resources',
  area: 'config',
  title: 'Resource requests and limits are valid quantities, with requests not above limits',
  description: 'The runner parses every *_request/*_limit as a Kubernetes quantity and fails the job on a bad one; a request above its limit is rejected by the API server; and suffix mistakes (memory "512m" is half a byte, "1" is one byte) silently create pods that are OOM-killed or never scheduled.',
  severity: 'fail',
  needs: [],
  catalog: ['config-invalid', 'oom-killed'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const out: FindingInput[] = []
    for (const key of Object.keys(KUBERNETES_FIELDS).filter((k) => RESOURCE_KEY.test(k))) {
      const v = kc[key]
      if (v === undefined || v === '') continue
      const q = parseQuantity(v as string)
      if (!q) {
        out.push({ message: `${key} = ${JSON.stringify(v)} is not a Kubernetes quantity: jobs fail with 'parsing resource "${key.replace(/_(request|limit).*/, '').replace(/^(service_|helper_|pod_)/, '')}" with value ${JSON.stringify(v)}'`, at: atKube(ctx, key), fix: { text: 'Use a quantity such as "500m" or "2" for CPU and "512Mi" or "2Gi" for memory.' } })
        continue
      }
      const [, , res] = RESOURCE_KEY.exec(key)!
      if (res !== 'cpu' && q.value < 2 ** 20) {
        // A request only reserves room on the node; a limit (or a cap on what jobs may ask for) is what the
        // container gets, and a container that small is killed or refused.
        const effect = key.endsWith('_request') ? `the scheduler reserves next to nothing for the container, so its node can be overcommitted and it is among the first pods evicted under ${res === 'memory' ? 'memory' : 'disk'} pressure` : 'containers that small are OOM-killed or refused'
        out.push({ severity: 'warn', message: `${key} = ${JSON.stringify(v)} is only ${q.value < 1 ? `${q.value} bytes (a lowercase "m" means milli)` : formatBytes(q.value)}: ${effect}`, at: atKube(ctx, key), fix: { text: 'Use a binary suffix such as "512Mi" or "1Gi".', toml: tomlFix(ctx, 'runners.kubernetes', { [key]: '512Mi' }) } })
      } else if (res !== 'cpu' && q.format === 'decimal' && /^[kMGTPE]$/.test(q.suffix)) {
        out.push({ severity: 'info', message: `${key} = ${JSON.stringify(v)} uses a decimal suffix: ${v} is ${formatBytes(q.value)}, a little less than ${String(v)}i`, at: atKube(ctx, key), fix: { text: `Write "${String(v)}i" if you meant binary units.` } })
      }
    }
    for (const prefix of ['', 'service_', 'helper_', 'pod_']) {
      for (const res of prefix === 'pod_' ? ['cpu', 'memory'] : ['cpu', 'memory', 'ephemeral_storage']) {
        const rq = parseQuantity(String(kc[`${prefix}${res}_request`] ?? ''))
        const lim = parseQuantity(String(kc[`${prefix}${res}_limit`] ?? ''))
        if (rq && lim && rq.value > lim.value) {
          out.push({ message: `${prefix}${res}_request (${String(kc[`${prefix}${res}_request`])}) is above ${prefix}${res}_limit (${String(kc[`${prefix}${res}_limit`])}): the API server rejects the pod ("must be less than or equal to ${res.replace('_', '-')} limit")`, at: atKube(ctx, `${prefix}${res}_request`), fix: { text: 'Lower the request or raise the limit.', toml: tomlFix(ctx, 'runners.kubernetes', { [`${prefix}${res}_request`]: String(kc[`${prefix}${res}_limit`]) }) } })
        }
      }
    }
    return out
  },
})
