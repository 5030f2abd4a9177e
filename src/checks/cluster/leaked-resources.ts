import { defineCheck } from '../types.js'
import type { ObjectMeta } from '../facts.js'

const RUNNER_NAME = /^runner-[a-z0-9]+-project-\d+-concurrent-\d+-?[a-z0-9]*$/
const HOUR = 3600_000

/**
 * A registry-credentials secret the runner left behind: named like the runner's objects, owned by
 * nobody (the ownerReference is set only after the pod exists) and older than an hour.
 */
export function isLeakedRunnerSecret(s: ObjectMeta, now: string | undefined, minAgeMs = HOUR): boolean {
  if (!RUNNER_NAME.test(s.name) || s.ownerReferences.length > 0) return false
  if (!s.creationTimestamp) return true
  return Date.parse(now ?? new Date().toISOString()) - Date.parse(s.creationTimestamp) >= minAgeMs
}

export default defineCheck({
  id: 'cluster-leaked-resources',
  area: 'cluster',
  title: 'No secrets leaked by earlier jobs',
  description: 'The runner creates the registry-credentials secret before the pod and gives it an owner only once the pod exists; when pod creation failed (quota, webhook), the secret stays forever and counts against the secrets quota until jobs fail with "exceeded quota: …, requested: secrets=1".',
  severity: 'warn',
  needs: ['secrets'],
  catalog: ['quota-exceeded'],
  run: ({ facts, config, runner }) => {
    const now = facts.now?.ok ? facts.now.value.time : undefined
    const leaked = (facts.secrets!.ok ? facts.secrets!.value : []).filter((s) => isLeakedRunnerSecret(s, now))
    if (leaked.length === 0) return []
    return [{
      message: `${leaked.length} runner secret${leaked.length === 1 ? '' : 's'} without an owner, older than an hour (e.g. ${leaked.slice(0, 3).map((s) => s.name).join(', ')}): leftovers of jobs whose pod was never created`,
      at: config.locate([...runner.path, 'kubernetes', 'namespace']),
      fix: { text: 'Review and delete them with `gkr cleanup` (dry-run first, then --yes).' },
      details: { count: leaked.length, names: leaked.map((s) => s.name) },
    }]
  },
})
