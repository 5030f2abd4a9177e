import { defineCheck, type FindingInput } from '../types.js'
import { PULL_POLICIES } from '../../config/schema.js'
import type { CiFile } from '../../ci/types.js'
import { effectivePullPolicies } from '../../executor/pull-policy.js'
import { atKube, k8s, strList, tomlFix } from './util.js'


export default defineCheck({
  id: 'config-pull-policy',
  area: 'config',
  title: 'Pull policies are valid and allowed',
  description: 'The runner accepts only always, never and if-not-present, and only the ones listed in allowed_pull_policies (when set). While allowed_pull_policies is unset, the allow-list is pull_policy itself (or nothing at all when that is unset too, so a job asking for any policy is refused). A policy from the config or from a job that the allow-list lacks fails the job in Prepare with "pull_policy (...) defined in ... is not one of the allowed_pull_policies". With --ci-file, the policies jobs ask for are checked too.',
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
        if (p !== '' && !(PULL_POLICIES as readonly string[]).includes(p)) out.push({ message: `${key} contains ${JSON.stringify(p)}: jobs fail with 'unsupported pull policy: "${p}"'`, at: atKube(ctx, key), fix: { text: 'Use always, never or if-not-present.' } })
      }
    }
    if (out.length > 0) return out
    // Jobs that set no policy of their own use the config's (or the cluster default when none is set).
    const byDefault = effectivePullPolicies(undefined, policies, allowed)
    if (byDefault.error) {
      out.push({
        message: `${byDefault.error}: every job that does not set its own pull_policy fails with 'invalid pull policy for container "build"'`,
        at: atKube(ctx, policies.length > 0 ? 'pull_policy' : 'allowed_pull_policies'),
        fix: { text: policies.length > 0 ? 'Make pull_policy a subset of allowed_pull_policies.' : 'Set pull_policy to one of the allowed policies, so jobs without their own policy have one that is allowed.', toml: tomlFix(ctx, 'runners.kubernetes', { pull_policy: allowed[0] }) },
      })
    }
    const ci = ctx.ciFile as CiFile | undefined
    for (const job of Object.values(ci?.jobs ?? {})) {
      const images = [...(job.image ? [{ what: 'image', container: 'build', ...job.image }] : []), ...job.services.map((s) => ({ what: `service ${s.alias ?? s.name}`, container: s.alias ?? s.name, ...s }))]
      for (const img of images) {
        const asked = img.pull_policy ?? []
        if (asked.length === 0) continue
        const d = effectivePullPolicies(asked, policies, allowed)
        if (!d.error) continue
        const allowList = allowed.length > 0 ? 'allowed_pull_policies' : policies.length > 0 ? 'pull_policy (which is also the allow-list while allowed_pull_policies is unset)' : 'allowed_pull_policies (unset, and so is pull_policy: no job may choose a policy)'
        out.push({
          message: `job "${job.name}" (${img.what}): ${d.error}`,
          at: img.at ?? job.at ?? { file: ci!.file },
          fix: {
            text: `Add the policy to the runner's ${allowList}, or change the job's pull_policy to one the runner allows.`,
            toml: tomlFix(ctx, 'runners.kubernetes', { allowed_pull_policies: [...new Set([...(allowed.length > 0 ? allowed : policies), ...asked])] }),
            ...((allowed.length > 0 ? allowed : policies)[0] ? { ciYaml: `${job.name}:\n  image:\n    name: ${img.name}\n    pull_policy: ${(allowed.length > 0 ? allowed : policies)[0]}` } : {}),
          },
        })
      }
    }
    return out
  },
})
