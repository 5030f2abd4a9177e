import { defineCheck, type FindingInput } from '../types.js'
import { PULL_POLICIES } from '../../config/schema.js'
import type { CiFile } from '../../ci/types.js'
import { atKube, k8s, strList, tomlFix } from './util.js'

const K8S_NAME: Record<string, string> = { always: 'Always', never: 'Never', 'if-not-present': 'IfNotPresent' }
const show = (ps: string[]): string => `[${ps.map((p) => K8S_NAME[p] ?? p).join(' ')}]`

export default defineCheck({
  id: 'config-pull-policy',
  area: 'config',
  title: 'Pull policies are valid and allowed',
  description: 'The runner accepts only always, never and if-not-present, and only the ones listed in allowed_pull_policies (when set). A policy from the config or from a job that the allow-list lacks fails the job in Prepare with "pull_policy (...) defined in ... is not one of the allowed_pull_policies". With --ci-file, the policies jobs ask for are checked too.',
  severity: 'fail',
  needs: [],
  catalog: ['error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const out: FindingInput[] = []
    const policies = strList(kc.pull_policy)
    const allowed = strList(kc.allowed_pull_policies)
    for (const [key, list] of [['pull_policy', policies], ['allowed_pull_policies', allowed]] as const) {
      for (const p of list) {
        if (!(PULL_POLICIES as readonly string[]).includes(p)) out.push({ message: `${key} contains ${JSON.stringify(p)}: jobs fail with 'unsupported pull policy: "${p}"'`, at: atKube(ctx, key), fix: { text: 'Use always, never or if-not-present.' } })
      }
    }
    if (allowed.length === 0) return out
    const outside = policies.filter((p) => !allowed.includes(p))
    if (policies.length > 0 && outside.length === policies.length) {
      out.push({ message: `pull_policy ${show(policies)} defined in Runner config is not one of the allowed_pull_policies ${show(allowed)}: every job that does not set its own policy fails`, at: atKube(ctx, 'pull_policy'), fix: { text: 'Make pull_policy a subset of allowed_pull_policies.', toml: tomlFix(ctx, 'runners.kubernetes', { pull_policy: allowed[0] }) } })
    }
    const ci = ctx.ciFile as CiFile | undefined
    for (const job of Object.values(ci?.jobs ?? {})) {
      const images = [...(job.image ? [{ what: 'image', ...job.image }] : []), ...job.services.map((s) => ({ what: `service ${s.alias ?? s.name}`, ...s }))]
      for (const img of images) {
        const asked = img.pull_policy ?? []
        if (asked.length > 0 && !asked.some((p) => allowed.includes(p))) {
          out.push({
            message: `job "${job.name}" (${img.what}): pull_policy ${show(asked)} defined in GitLab pipeline config is not one of the allowed_pull_policies ${show(allowed)}`,
            at: img.at ?? job.at ?? { file: ci!.file },
            fix: { text: `Allow the policy in the runner, or change the job's pull_policy to one of ${allowed.join(', ')}.`, toml: tomlFix(ctx, 'runners.kubernetes', { allowed_pull_policies: [...new Set([...allowed, ...asked])] }), ciYaml: `${job.name}:\n  image:\n    name: ${img.name}\n    pull_policy: ${allowed[0]}` },
          })
        }
      }
    }
    return out
  },
})
