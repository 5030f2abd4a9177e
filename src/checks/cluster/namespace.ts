import { defineCheck } from '../types.js'

export default defineCheck({
  id: 'cluster-namespace',
  area: 'cluster',
  title: 'The namespace jobs run in exists',
  description: 'Every object of a job is created in the runner\'s namespace (unless namespace_per_job creates one per job); when it does not exist every job fails at the first create with "namespaces ... not found".',
  severity: 'fail',
  needs: ['namespace'],
  catalog: ['config-invalid'],
  run: ({ facts, config, runner }) => {
    const ns = facts.namespace!.ok ? facts.namespace!.value : undefined
    if (!ns || ns.exists || ns.createdPerJob) return []
    return [{ message: `namespace ${ns.name} does not exist: every job fails with 'namespaces "${ns.name}" not found'`, at: config.locate([...runner.path, 'kubernetes', 'namespace']), fix: { text: `Create it (kubectl create namespace ${ns.name}) or set namespace to an existing one.`, yaml: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns.name}` } }]
  },
})
