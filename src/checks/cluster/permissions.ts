import { defineCheck, type FindingInput } from '../types.js'
import type { AccessFact } from '../facts.js'

/** The Role rule that grants a missing permission. */
export function ruleYaml(a: Pick<AccessFact, 'group' | 'resource' | 'subresource' | 'verb'>, verbs: string[] = [a.verb]): string {
  return `- apiGroups: [${JSON.stringify(a.group)}]\n  resources: [${JSON.stringify(a.subresource ? `${a.resource}/${a.subresource}` : a.resource)}]\n  verbs: [${verbs.map((v) => JSON.stringify(v)).join(', ')}]`
}

export default defineCheck({
  id: 'cluster-permissions',
  area: 'cluster',
  title: 'The runner\'s identity has every permission the executor uses',
  description: 'Asks the API server (access reviews) for every permission the configuration needs, from gkr\'s permission table, in every namespace the runner uses: its namespace, up to five existing namespaces that namespace_overwrite_allowed lets jobs pick, and with namespace_per_job cluster-wide (the per-job namespaces do not exist yet, so only a ClusterRole binding covers them). A grant of every verb on every resource is noted as info. A missing required verb fails the job with a Forbidden error at the step that uses it; a missing optional one (informers, warning events) makes the runner degrade with a warning.',
  severity: 'fail',
  needs: ['access'],
  catalog: ['rbac-forbidden'],
  run: ({ facts, config, runner }) => {
    const all = facts.access!.ok ? facts.access!.value : []
    const access = all.filter((a) => !a.probe)
    const missing = access.filter((a) => !a.allowed)
    const byResource = new Map<string, AccessFact[]>()
    for (const m of missing) {
      const key = `${m.group}/${m.resource}/${m.subresource ?? ''}/${m.optional}/${m.namespace ?? ''}`
      byResource.set(key, [...(byResource.get(key) ?? []), m])
    }
    const out: FindingInput[] = []
    for (const list of byResource.values()) {
      const a = list[0]!
      const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
      out.push({
        severity: a.optional ? 'warn' : 'fail',
        message: `cannot ${list.map((x) => x.verb).join(', ')} ${res}${a.group ? `.${a.group}` : ''}${a.namespace ? ` in namespace ${a.namespace}` : ' at the cluster scope'}: ${a.why}`,
        at: config.locate([...runner.path, 'kubernetes', 'service_account']),
        fix: { text: `Add this rule to the ${a.clusterScoped ? 'ClusterRole' : 'Role'} bound to the runner's service account (gkr rbac prints the whole Role).`, yaml: ruleYaml(a, list.map((x) => x.verb)) },
        details: { verbs: list.map((x) => x.verb), resource: res, group: a.group, namespace: a.namespace },
      })
    }
    // Over-broad grants: the cluster-wide one makes the namespaced one redundant to mention.
    const broad = all.filter((a) => a.probe === 'broad' && a.allowed).sort((a, b) => Number(Boolean(a.namespace)) - Number(Boolean(b.namespace)))
    const b = broad[0]
    if (b) {
      out.push({
        severity: 'info',
        message: `the runner's identity may do anything (every verb on every resource${b.namespace ? ` in namespace ${b.namespace}` : ', cluster-wide'}): far more than the executor uses, so a compromised job token or runner can change the ${b.namespace ? 'namespace' : 'whole cluster'}`,
        at: config.locate([...runner.path, 'kubernetes', 'service_account']),
        fix: { text: 'Bind the service account to a Role with only the rules the configuration needs instead (gkr rbac prints it), and remove the broad binding (kubectl get rolebindings,clusterrolebindings -A -o wide).' },
        details: { scope: b.namespace ?? 'cluster' },
      })
    }
    return out
  },
})
