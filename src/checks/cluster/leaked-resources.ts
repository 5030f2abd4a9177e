import { defineCheck, type FindingInput } from '../types.js'
import type { ObjectMeta, PodFact } from '../facts.js'

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

const age = (t: string | undefined, now: string): number => (t ? Date.parse(now) - Date.parse(t) : 0)

const isRunnerPod = (p: PodFact): boolean => Boolean(p.labels['job.runner.gitlab.com/pod']) || RUNNER_NAME.test(p.name)

/** Runner job pods (by label or name) still Running longer than `maxMs` (Pending ones are cluster-pending-pods' business; deleted ones stuckPods'). */
export function stalePods(pods: readonly PodFact[], now: string, maxMs: number): PodFact[] {
  return pods.filter((p) => isRunnerPod(p) && !p.deletionTimestamp && p.phase === 'Running' && age(p.creationTimestamp, now) > maxMs)
}

/**
 * Runner job pods whose deletion was requested and whose grace period (deletionTimestamp is its end)
 * is over by more than `marginMs`, yet still exist: a finalizer nobody removes keeps them, or the
 * kubelet never confirmed that their containers stopped (an unreachable node).
 */
export function stuckPods(pods: readonly PodFact[], now: string, marginMs: number): PodFact[] {
  return pods.filter((p) => isRunnerPod(p) && p.deletionTimestamp !== undefined && age(p.deletionTimestamp, now) > marginMs)
}

const names = (list: ReadonlyArray<{ name: string }>): string => `${list.slice(0, 3).map((x) => x.name).join(', ')}${list.length > 3 ? `, … (${list.length - 3} more)` : ''}`

export default defineCheck({
  id: 'cluster-leaked-resources',
  area: 'cluster',
  title: 'No secrets, config maps, services, pods or per-job namespaces left behind by earlier jobs',
  description: 'The runner creates the registry-credentials secret (and services) before the pod and gives them an owner only once the pod exists; when pod creation failed (quota, webhook), they stay forever and count against the namespace\'s quotas until jobs fail with "exceeded quota: …, requested: secrets=1". Also reported: runner pods still Running after the default job timeout (1 h), the trace of a runner that was killed mid-job; runner pods stuck Terminating more than 5 minutes past their grace period, kept by a finalizer nobody removes or by a node that never confirms; and with namespace_per_job leftover ci-job-<id> namespaces older than an hour. `gkr cleanup` lists and deletes the unowned objects.',
  severity: 'warn',
  needs: ['secrets'],
  catalog: ['quota-exceeded'],
  run: ({ facts, config, runner }) => {
    const now = facts.now?.ok ? facts.now.value.time : new Date().toISOString()
    const at = config.locate([...runner.path, 'kubernetes', 'namespace'])
    const quotaKeys = new Set((facts.quotas?.ok ? facts.quotas.value : []).flatMap((q) => Object.keys(q.hard)))
    const out: FindingInput[] = []
    for (const [kind, plural, fact] of [['secret', 'secrets', facts.secrets], ['config map', 'configmaps', facts.configMaps], ['service', 'services', facts.services]] as const) {
      const leaked = (fact?.ok ? fact.value : []).filter((s) => isLeakedRunnerSecret(s, now))
      if (leaked.length === 0) continue
      const counted = [plural, `count/${plural}`].filter((k) => quotaKeys.has(k))
      out.push({
        message: `${leaked.length} runner ${kind}${leaked.length === 1 ? '' : 's'} without an owner, older than an hour (${names(leaked)}): leftovers of jobs whose pod was never created${counted.length ? `; they count against the ${counted.join('/')} quota` : ''}`,
        at,
        fix: { text: 'Review and delete them with `gkr cleanup` (dry-run first, then --yes).' },
        details: { kind: plural, count: leaked.length, names: leaked.map((s) => s.name), quotaKeys: counted },
      })
    }
    const pods = stalePods(facts.pods?.ok ? facts.pods.value : [], now, HOUR)
    if (pods.length > 0) {
      out.push({
        message: `${pods.length} runner pod${pods.length === 1 ? ' is' : 's are'} still Running after the default job timeout of 1 h (${names(pods)}): a runner that was restarted or killed mid-job leaves them, and they hold the quota and node room of a job (jobs with a longer timeout may still be running legitimately)`,
        at,
        fix: { text: 'Check with kubectl get pods -n <namespace> -L job.runner.gitlab.com/pod whether their jobs still run in GitLab, and delete the pods that belong to finished jobs.' },
        details: { kind: 'pods', count: pods.length, names: pods.map((p) => p.name) },
      })
    }
    const stuck = stuckPods(facts.pods?.ok ? facts.pods.value : [], now, 5 * 60_000)
    if (stuck.length > 0) {
      const finalizers = [...new Set(stuck.flatMap((p) => p.finalizers ?? []))]
      out.push({
        message: `${stuck.length} runner pod${stuck.length === 1 ? ' is' : 's are'} stuck Terminating, past the end of their grace period (${names(stuck)}): ${finalizers.length > 0 ? `the finalizer${finalizers.length === 1 ? '' : 's'} ${finalizers.join(', ')} ${finalizers.length === 1 ? 'keeps' : 'keep'} them, and no controller removes ${finalizers.length === 1 ? 'it' : 'them'}` : 'the kubelet never confirmed that their containers stopped (is their node unreachable?)'}; they still count against the namespace's pod quota`,
        at,
        fix: { text: finalizers.length > 0 ? 'Find the controller that owns the finalizer (a policy or backup tool) and fix or remove it; `gkr cleanup --yes` removes the finalizers of runner pods whose deletion was requested longer ago than --older-than.' : 'Check the node (kubectl get nodes); once it is gone for good, kubectl delete pod <name> --grace-period=0 --force.' },
        details: { kind: 'pods', state: 'Terminating', count: stuck.length, names: stuck.map((p) => p.name), finalizers },
      })
    }
    const namespaces = (facts.jobNamespaces?.ok ? facts.jobNamespaces.value : []).filter((n) => age(n.creationTimestamp, now) >= HOUR)
    if (namespaces.length > 0) {
      out.push({
        message: `${namespaces.length} per-job namespace${namespaces.length === 1 ? '' : 's'} older than an hour (${names(namespaces)}): namespace_per_job deletes its namespace at the end of each job, so these are leftovers of jobs whose cleanup failed`,
        at: config.locate([...runner.path, 'kubernetes', 'namespace_per_job']),
        fix: { text: 'Make sure their jobs have finished, then delete them (kubectl delete namespace <name>).' },
        details: { kind: 'namespaces', count: namespaces.length, names: namespaces.map((n) => n.name) },
      })
    }
    return out
  },
})
