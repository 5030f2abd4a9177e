import { defineCheck, type FindingInput } from '../types.js'
import type { NodeFact } from '../facts.js'
import type { RenderedJob } from '../../executor/render.js'
import { parseQuantity } from '../../config/values.js'

/** One nodeSelectorTerm: every expression must hold (In, NotIn, Exists, DoesNotExist, Gt, Lt). */
export function matchesTerm(labels: Record<string, string>, exprs: ReadonlyArray<{ key: string; operator: string; values?: string[] }>): boolean {
  return exprs.every((e) => {
    const v = labels[e.key]
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v)
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v)
      case 'Exists': return v !== undefined
      case 'DoesNotExist': return v === undefined
      case 'Gt': return v !== undefined && Number(v) > Number(e.values?.[0])
      case 'Lt': return v !== undefined && Number(v) < Number(e.values?.[0])
      default: return false
    }
  })
}

const ARCH: Record<string, string> = { x86_64: 'amd64', amd64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64le: 'ppc64le', riscv64: 'riscv64' }

/** The OS and architecture a gitlab-runner-helper image tag is built for (undefined for other images). */
export function helperPlatform(image: string | undefined): { os: 'linux' | 'windows'; arch: string } | undefined {
  const m = /gitlab-runner-helper:(?:[a-z]+-)?(x86_64|amd64|arm64|arm|s390x|ppc64le|riscv64)-/.exec(image ?? '')
  if (!m) return undefined
  return { os: /servercore|nanoserver/.test(image!) ? 'windows' : 'linux', arch: ARCH[m[1]!]! }
}

/** Why a node cannot run the job pod (the scheduler's wording), or undefined when it can. */
export function misfit(node: NodeFact, r: RenderedJob): string | undefined {
  const spec = r.pod.spec!
  if (node.unschedulable) return 'node(s) were unschedulable'
  if (!node.ready) return 'node(s) were not ready'
  // In kube-scheduler's filter order (TaintToleration before NodeAffinity), so the first reason is the one its event names.
  for (const t of node.taints.filter((x) => x.effect !== 'PreferNoSchedule')) {
    const ok = (spec.tolerations ?? []).some((tol) => (!tol.key && tol.operator === 'Exists') || (tol.key === t.key && (tol.operator === 'Exists' || (tol.value ?? '') === (t.value ?? '')) && (!tol.effect || tol.effect === t.effect)))
    if (!ok) return 'node(s) had untolerated taint(s)'
  }
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (node.labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector"
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
  if (terms.length > 0 && !terms.some((t) => matchesTerm(node.labels, t.matchExpressions ?? []))) return "node(s) didn't match Pod's node affinity/selector"
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
  description: 'Matches the rendered pod\'s node selector, required node affinity, tolerations and requests against every node (labels, taints, allocatable, cordoned, NotReady), and the OS/architecture of the helper image against the nodes the pod fits. When no node fits, pods stay Pending with FailedScheduling until poll_timeout fails the job.',
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
    // The helper image is built for one OS/architecture: a node of another one fails with "exec format error".
    const helper = helperPlatform((r.pod.spec?.containers ?? []).find((c) => c.name === 'helper')?.image)
    if (helper && fits.length > 0) {
      const wrong = fits.filter((n) => (n.labels['kubernetes.io/arch'] && n.labels['kubernetes.io/arch'] !== helper.arch) || (n.labels['kubernetes.io/os'] && n.labels['kubernetes.io/os'] !== helper.os))
      if (wrong.length > 0) {
        const platforms = [...new Set(wrong.map((n) => `${n.labels['kubernetes.io/os'] ?? '?'}/${n.labels['kubernetes.io/arch'] ?? '?'}`))].sort()
        const all = wrong.length === fits.length
        out.push({
          severity: all ? 'fail' : 'warn',
          message: `the helper image is built for ${helper.os}/${helper.arch}, but ${all ? 'every node the pod fits is' : `${wrong.length} of the ${fits.length} nodes the pod fits ${wrong.length === 1 ? 'is' : 'are'}`} ${platforms.join(', ')} (${wrong.slice(0, 3).map((n) => n.name).join(', ')}): the helper fails there with "exec format error"`,
          at: config.locate([...runner.path, 'kubernetes', 'node_selector']),
          fix: { text: `Pin jobs to ${helper.os}/${helper.arch} nodes (the helper image follows kubernetes.io/arch in node_selector).`, toml: `[[runners]]\n  [runners.kubernetes.node_selector]\n    "kubernetes.io/os" = "${helper.os}"\n    "kubernetes.io/arch" = "${helper.arch}"` },
          details: { helper: `${helper.os}/${helper.arch}`, nodes: wrong.map((n) => n.name) },
        })
      }
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
