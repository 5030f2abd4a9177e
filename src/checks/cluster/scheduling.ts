import { defineCheck, type FindingInput } from '../types.js'
import type { NodeFact } from '../facts.js'
import type { RenderedJob } from '../../executor/render.js'
import { parseQuantity } from '../../config/values.js'

/** Why a node cannot run the job pod (the scheduler's wording), or undefined when it can. */
export function misfit(node: NodeFact, r: RenderedJob): string | undefined {
  const spec = r.pod.spec!
  if (node.unschedulable) return 'node(s) were unschedulable'
  if (!node.ready) return 'node(s) were not ready'
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (node.labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector"
  for (const t of node.taints.filter((x) => x.effect !== 'PreferNoSchedule')) {
    const ok = (spec.tolerations ?? []).some((tol) => (!tol.key && tol.operator === 'Exists') || (tol.key === t.key && (tol.operator === 'Exists' || (tol.value ?? '') === (t.value ?? '')) && (!tol.effect || tol.effect === t.effect)))
    if (!ok) return 'node(s) had untolerated taint(s)'
  }
  for (const res of ['cpu', 'memory']) {
    const alloc = node.allocatable[res]
    const want = r.footprint.requests[res] ?? 0
    if (alloc !== undefined && want > (parseQuantity(alloc)?.value ?? Infinity)) return `Insufficient ${res}`
  }
  return undefined
}

export default defineCheck({
  id: 'cluster-scheduling',
  area: 'cluster',
  title: 'Some node can run the job pod',
  description: 'Matches the rendered pod\'s node selector, tolerations and requests against every node (labels, taints, allocatable, cordoned, NotReady). When no node fits, pods stay Pending with FailedScheduling until poll_timeout fails the job.',
  severity: 'fail',
  needs: ['nodes'],
  catalog: ['scheduling-failed', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    const nodes = facts.nodes!.ok ? facts.nodes!.value : []
    if (!r) return { skipped: 'no rendered job' }
    const out: FindingInput[] = []
    const reasons = new Map<string, number>()
    const fits = nodes.filter((n) => {
      const why = misfit(n, r)
      if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1)
      return !why
    })
    if (fits.length === 0) {
      const summary = nodes.length === 0 ? 'no nodes available to schedule pods' : `0/${nodes.length} nodes are available: ${[...reasons].sort().map(([why, n]) => `${n} ${why}`).join(', ')}`
      out.push({ message: `no node can run the job pod (${summary}): pods stay Pending until poll_timeout fails the job`, at: config.locate([...runner.path, 'kubernetes', 'node_selector']), fix: { text: 'Make node_selector and node_tolerations match a node pool (kubectl get nodes --show-labels), or lower the requests.' }, details: { nodes: nodes.length, reasons: Object.fromEntries(reasons) } })
    }
    const selector = r.pod.spec?.nodeSelector ?? {}
    const build = selector['node.kubernetes.io/windows-build']
    if (selector['kubernetes.io/os'] === 'windows' && build && !nodes.some((n) => n.labels['node.kubernetes.io/windows-build'] === build)) {
      const have = [...new Set(nodes.map((n) => n.labels['node.kubernetes.io/windows-build']).filter(Boolean))]
      out.push({ message: `no node has node.kubernetes.io/windows-build=${build}${have.length ? ` (nodes have ${have.join(', ')})` : ''}`, at: config.locate([...runner.path, 'kubernetes', 'node_selector']), catalog: ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'], fix: { text: `Set the Windows build your nodes run${have[0] ? `, e.g. "node.kubernetes.io/windows-build" = "${have[0]}"` : ''}.` } })
    }
    return out
  },
})
