import type { RbacObjects } from './permissions.js'

const q = (s: string): string => JSON.stringify(s)

/** Comment lines naming the verbs of GitLab's documented Role that are not printed, and why. */
function leftOutComments(objs: RbacObjects, indent: string): string[] {
  if (objs.leftOut.length === 0) return []
  return [
    `${indent}# Not granted although GitLab's documented Role lists them (gkr follows the runner's code, see docs/rbac.md):`,
    ...objs.leftOut.map((l) => `${indent}#   ${l.resource} ${l.verb}: ${l.why}`),
  ]
}

function rulesYaml(objs: RbacObjects, indent: string): string[] {
  const out: string[] = leftOutComments(objs, indent)
  for (const r of objs.rules) {
    out.push(`${indent}- apiGroups: [${r.apiGroups.map(q).join(', ')}]`, `${indent}  resources: [${r.resources.map(q).join(', ')}]`, `${indent}  verbs:`)
    for (const v of r.verbs) out.push(`${indent}    - ${q(v)} # ${r.reasons[v]}`)
  }
  return out
}

/** The Role/ClusterRole (and with --with-binding the ServiceAccount and binding) as commented YAML. */
export function rbacYaml(objs: RbacObjects): string {
  const ns = objs.kind === 'Role' ? [`  namespace: ${objs.namespace}`] : []
  const docs: string[][] = [['apiVersion: rbac.authorization.k8s.io/v1', `kind: ${objs.kind}`, 'metadata:', `  name: ${objs.name}`, ...ns, 'rules:', ...rulesYaml(objs, '  ')]]
  if (objs.withBinding) {
    const sa = objs.serviceAccount ?? 'gitlab-runner'
    docs.push(['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', `  name: ${sa}`, `  namespace: ${objs.namespace}`])
    const bindingKind = objs.kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding'
    docs.push([
      'apiVersion: rbac.authorization.k8s.io/v1',
      `kind: ${bindingKind}`,
      'metadata:',
      `  name: ${objs.name}`,
      ...(bindingKind === 'RoleBinding' ? [`  namespace: ${objs.namespace}`] : []),
      'roleRef:',
      '  apiGroup: rbac.authorization.k8s.io',
      `  kind: ${objs.kind}`,
      `  name: ${objs.name}`,
      'subjects:',
      '  - kind: ServiceAccount',
      `    name: ${sa}`,
      `    namespace: ${objs.namespace}`,
    ])
  }
  return docs.map((d) => d.join('\n')).join('\n---\n') + '\n'
}

/** The GitLab Runner Helm chart's `rbac` values block. */
export function rbacHelmValues(objs: RbacObjects): string {
  return [
    'rbac:',
    '  create: true',
    ...(objs.kind === 'ClusterRole' ? ['  clusterWideAccess: true # namespace_per_job or cluster-scoped resources need a ClusterRole'] : []),
    '  rules:',
    ...rulesYaml(objs, '    '),
    ...(objs.serviceAccount ? ['serviceAccount:', '  create: true', `  name: ${objs.serviceAccount}`] : []),
  ].join('\n') + '\n'
}

/** The objects as one `v1 List`, the JSON shape `kubectl apply -f -` accepts for several objects (a bare array it refuses). */
export function rbacList(objs: RbacObjects): { apiVersion: 'v1'; kind: 'List'; items: object[] } {
  return { apiVersion: 'v1', kind: 'List', items: rbacObjects(objs) }
}

/** Plain Kubernetes objects (for --json). */
export function rbacObjects(objs: RbacObjects): object[] {
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: objs.kind,
    metadata: { name: objs.name, ...(objs.kind === 'Role' ? { namespace: objs.namespace } : {}) },
    rules: objs.rules.map(({ apiGroups, resources, verbs }) => ({ apiGroups, resources, verbs })),
  }
  if (!objs.withBinding) return [role]
  const sa = objs.serviceAccount ?? 'gitlab-runner'
  const bindingKind = objs.kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding'
  return [
    role,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: objs.namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: bindingKind,
      metadata: { name: objs.name, ...(bindingKind === 'RoleBinding' ? { namespace: objs.namespace } : {}) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: objs.kind, name: objs.name },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: objs.namespace }],
    },
  ]
}
