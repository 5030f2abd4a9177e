import { defineCheck, type FindingInput } from '../types.js'
import type { RenderedJob } from '../../executor/render.js'
import { parseQuantity } from '../../config/values.js'
import { isLeakedRunnerSecret } from './leaked-resources.js'
import { defaultedFootprint } from './limit-range.js'

const num = (v: string | undefined): number => (v === undefined ? 0 : (parseQuantity(v)?.value ?? 0))

/** What one job takes of each quota key. */
export function jobUsage(r: RenderedJob, footprint: RenderedJob['footprint'] = r.footprint): Record<string, number> {
  const u: Record<string, number> = { pods: 1, 'count/pods': 1, secrets: r.secrets.length, 'count/secrets': r.secrets.length, services: r.services.length, 'count/services': r.services.length }
  for (const [k, v] of Object.entries(footprint.requests)) {
    u[`requests.${k}`] = v
    u[k] = v
  }
  for (const [k, v] of Object.entries(footprint.limits)) u[`limits.${k}`] = v
  return u
}

export default defineCheck({
  id: 'cluster-quota',
  area: 'cluster',
  title: 'ResourceQuotas leave room for jobs, up to concurrent',
  description: 'Compares what one job takes (the pod with all containers after the LimitRange defaults, init containers at their maximum, the credentials secret and the services) with the room each ResourceQuota of the namespace has left: how many jobs fit now, and whether `concurrent` jobs would. Leaked runner secrets that eat the secrets quota are counted out.',
  severity: 'fail',
  needs: ['quotas'],
  catalog: ['quota-exceeded'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    if (!r) return { skipped: 'no rendered job' }
    // Quotas are charged what the pod has after the LimitRange defaults.
    const usage = jobUsage(r, defaultedFootprint(r, facts.limitRanges?.ok ? facts.limitRanges.value : undefined))
    const concurrent = typeof config.global.concurrent === 'number' ? config.global.concurrent : 1
    const leaked = facts.secrets?.ok ? facts.secrets.value.filter((s) => isLeakedRunnerSecret(s, facts.now?.ok ? facts.now.value.time : undefined)).length : 0
    const out: FindingInput[] = []
    for (const q of facts.quotas!.ok ? facts.quotas!.value : []) {
      let fit = Infinity
      let tightest = ''
      for (const [key, hard] of Object.entries(q.hard)) {
        const per = usage[key]
        if (!per) continue
        const room = num(hard) - num(q.used[key])
        const n = Math.floor(room / per + 1e-9)
        if (n < fit) {
          fit = n
          tightest = key
        }
      }
      if (fit === Infinity) continue
      const where = config.locate([...runner.path, 'kubernetes', 'namespace'])
      const leakNote = tightest === 'secrets' && leaked > 0 ? ` ${leaked} of the used secrets look leaked by the runner (no owner): gkr cleanup lists them.` : ''
      if (fit < 1) out.push({ severity: 'fail', message: `quota ${q.name} has no room for one more job: ${tightest} used ${q.used[tightest] ?? 0} of ${q.hard[tightest]}, a job needs ${fmt(tightest, usage[tightest]!)}.${leakNote}`, at: where, fix: { text: tightest === 'secrets' && leaked > 0 ? 'Delete the leaked secrets (gkr cleanup --yes), or raise the quota.' : `Raise ${tightest} in quota ${q.name}, or lower the job's requests.` }, details: { quota: q.name, resource: tightest, fits: 0, leaked } })
      else if (fit < concurrent) out.push({ severity: 'warn', message: `quota ${q.name} fits ${fit} job${fit === 1 ? '' : 's'} now but concurrent = ${concurrent}: jobs beyond ${fit} fail with "exceeded quota" (limited by ${tightest}).${leakNote}`, at: config.locate(['concurrent']), fix: { text: `Raise ${tightest} in quota ${q.name} to at least ${fmt(tightest, usage[tightest]! * concurrent)} free, or lower concurrent.` }, details: { quota: q.name, resource: tightest, fits: fit, concurrent, leaked } })
    }
    return out
  },
})

function fmt(key: string, v: number): string {
  if (key.includes('memory') || key.includes('storage')) return v >= 2 ** 30 ? `${+(v / 2 ** 30).toFixed(2)}Gi` : `${+(v / 2 ** 20).toFixed(0)}Mi`
  if (key.includes('cpu')) return v < 1 ? `${Math.round(v * 1000)}m` : String(+v.toFixed(3))
  return String(v)
}
