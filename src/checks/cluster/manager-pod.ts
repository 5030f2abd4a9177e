import { defineCheck } from '../types.js'
import type { ManagerPodFact } from '../facts.js'
import type { RenderedJob } from '../../executor/render.js'

const OS = 'kubernetes.io/os'

/** Whether the job pod is pinned to Windows nodes: by node_selector (also the old beta label), or by every required node affinity term. */
export function targetsWindows(r: RenderedJob): boolean {
  const spec = r.pod.spec
  if (spec?.nodeSelector?.[OS] === 'windows' || spec?.nodeSelector?.['beta.kubernetes.io/os'] === 'windows') return true
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
  return terms.length > 0 && terms.every((t) => (t.matchExpressions ?? []).some((e) => e.key === OS && e.operator === 'In' && (e.values ?? []).length > 0 && (e.values ?? []).every((v) => v === 'windows')))
}

/** The OS the manager pod's own scheduling constraints pin it to, if they do. */
function pinnedOs(p: ManagerPodFact): string | undefined {
  const sel = p.nodeSelector[OS]
  if (sel) return sel
  return p.affinityOs?.length === 1 ? p.affinityOs[0] : undefined
}

const HELM_FIX = 'nodeSelector:\n  kubernetes.io/os: linux'
const DEPLOYMENT_FIX = 'spec:\n  template:\n    spec:\n      nodeSelector:\n        kubernetes.io/os: linux'

export default defineCheck({
  id: 'cluster-manager-pod',
  area: 'cluster',
  title: 'With Windows jobs, the runner manager pod runs on a Linux node',
  description:
    'When doctor runs in-cluster (inside the runner manager\'s pod or beside it), it reads its own pod (named by HOSTNAME, in the service account\'s namespace) and the node that pod runs on. For a configuration that sends jobs to Windows nodes, the manager itself must still run on Linux, as GitLab documents for Windows jobs on Kubernetes: only the job pods go to Windows nodes, through node_selector, and a manager pod that lands on a Windows node fails to mount its service account token ("chown is not supported by windows"). In a mixed cluster nothing keeps the manager\'s pod off Windows nodes unless its own nodeSelector says kubernetes.io/os: linux. Fails when the pod is on a node labelled with another OS or without kubernetes.io/os=linux; notes when it is on Linux only by chance (nothing pins it there). Passes when the configuration does not send jobs to Windows nodes; skipped when it does but doctor does not run in-cluster.',
  severity: 'fail',
  needs: ['managerPod'],
  catalog: ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    if (!r) return { skipped: 'no rendered job' }
    // Only Windows jobs put Windows nodes in play; for Linux jobs there is nothing to judge (as config-windows).
    if (!targetsWindows(r)) return []
    const p = facts.managerPod!.ok ? facts.managerPod!.value : null
    if (!p) return { skipped: 'doctor is not running in-cluster (it reached the cluster through a kubeconfig or the runner\'s host setting), so it cannot tell which pod the runner manager is; run gkr doctor inside the runner manager\'s pod to check it' }
    const pod = `${p.namespace}/${p.name}`
    const at = config.locate([...runner.path, 'kubernetes', 'node_selector'])
    const fix = {
      text: 'Keep the runner manager on Linux nodes and let only the jobs go to Windows: with the GitLab Runner Helm chart set the top-level value nodeSelector (below); for a hand-written Deployment set spec.template.spec.nodeSelector the same way.',
      yaml: `# Helm chart values.yaml\n${HELM_FIX}\n---\n# or the manager Deployment\n${DEPLOYMENT_FIX}`,
    }
    const pinned = pinnedOs(p)
    const node = p.node.ok ? p.node.value : undefined
    const nodeOs = node?.labels[OS]
    const details = { pod, node: p.nodeName || null, nodeOs: nodeOs ?? null, pinnedOs: pinned ?? null }
    // The node's own label is the fact; only without it does the pod's selector tell where it can be.
    if (node ? nodeOs !== 'linux' : pinned !== undefined && pinned !== 'linux') {
      const where = node ? `node ${node.name}, ${nodeOs ? `a ${nodeOs} node` : 'which has no kubernetes.io/os label'}` : `nodes with ${OS}=${pinned} (its nodeSelector)`
      return [{
        message: `the runner manager pod ${pod} (doctor's own pod) runs on ${where}: the manager must run on Linux and reach Windows nodes only through the jobs' node_selector; on a Windows node its own service account token volume fails to mount ("chown is not supported by windows")`,
        at,
        fix,
        details,
      }]
    }
    if (pinned === 'linux') return []
    if (!node) {
      const why = p.node.ok ? '' : p.node.forbidden ? `cannot ${p.node.forbidden.verb} ${p.node.forbidden.resource} (forbidden)` : p.node.reason
      return { skipped: `cannot tell the OS of node ${p.nodeName || '(none)'} that the runner manager pod ${pod} runs on: ${why}; and the pod has no nodeSelector ${OS}: linux that would settle it` }
    }
    return [{
      severity: 'info',
      message: `the runner manager pod ${pod} runs on Linux node ${node.name}, but nothing in the pod pins it to Linux: in a cluster with Windows nodes a restart may place it on one`,
      at,
      fix,
      details,
    }]
  },
})
