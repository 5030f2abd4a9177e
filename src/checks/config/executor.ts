import { defineCheck } from '../types.js'

export default defineCheck({
  id: 'config-executor',
  area: 'config',
  title: 'The file has a runner that uses the Kubernetes executor',
  description: 'gkr checks runners whose executor is kubernetes. A file without one (or a misspelt executor such as "kubernetes " or "k8s") means the runner never creates pods for jobs.',
  severity: 'fail',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: ({ config }) => {
    const others = config.runners.filter((r) => r.executor !== 'kubernetes')
    const none = others.length === config.runners.length
    if (config.runners.length === 0) {
      return [{ message: 'the file has no [[runners]] entries', at: { file: config.file }, fix: { text: 'Add a runner that uses the Kubernetes executor.', toml: '[[runners]]\n  name = "kubernetes"\n  url = "https://gitlab.example.com"\n  token = "<runner authentication token>"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    namespace = "gitlab-runner"' } }]
    }
    return others.map((r) => ({
      severity: none ? ('fail' as const) : ('info' as const),
      message: `runner ${r.name ? `"${r.name}"` : `#${r.index}`} uses the ${r.executor ? `"${r.executor}"` : '(unset)'} executor${none ? ', and no runner in this file uses kubernetes' : '; gkr does not check it'}`,
      at: config.locate([...r.path, 'executor']),
      ...(none ? { fix: { text: 'Set executor = "kubernetes" on the runner that should run jobs in the cluster.', toml: '[[runners]]\n  executor = "kubernetes"' } } : {}),
    }))
  },
})
