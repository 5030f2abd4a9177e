import { defineCheck, type FindingInput } from '../types.js'
import type { RenderedJob } from '../../executor/render.js'
import { combinedFix, evaluatePodSecurity, parseLevel, parseVersion, podSecurityMessage, showVersion, type PssViolation } from '../../executor/pod-security.js'
import { evaluateRestrictedV2, sccMessage } from '../../executor/scc.js'

const MODES = [
  { mode: 'enforce', severity: 'fail', says: (ns: string) => `namespace ${ns} enforces it, so every job pod is rejected` },
  { mode: 'warn', severity: 'warn', says: (ns: string) => `namespace ${ns} warns about it: every job pod is created with a warning` },
  { mode: 'audit', severity: 'warn', says: (ns: string) => `namespace ${ns} audits it: every job pod is recorded in the audit log` },
] as const

const violationDetails = (vs: readonly PssViolation[]): Array<Record<string, unknown>> => vs.map((v) => ({ control: v.check, level: v.level, reason: v.reason, detail: v.detail, fields: v.fields, fix: v.fix.text }))

export default defineCheck({
  id: 'cluster-pod-security',
  area: 'cluster',
  title: 'The job pod meets the Pod Security level of its namespace',
  description: 'Evaluates the pod the runner renders against the Pod Security Standards level (and version) that the namespace\'s pod-security.kubernetes.io/enforce, warn and audit labels set, control by control as Pod Security Admission does: a violated enforce level fails (every job pod is rejected with "violates PodSecurity"), warn and audit levels warn. Each finding names the controls, the containers and fields at fault, and prints one config.toml block that makes the pod comply. A namespace without labels gets the cluster\'s default level, which the API does not expose (the server-side dry-run shows its rejections). When the cluster serves OpenShift\'s security.openshift.io API, the pod is also checked against the restricted-v2 SecurityContextConstraints, with the UID and group ranges of the namespace (a warning: the service account may have been granted a wider SCC).',
  severity: 'fail',
  needs: ['namespace'],
  catalog: ['pod-security-admission', 'openshift-scc'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    if (!r) return { skipped: 'no rendered job' }
    const ns = facts.namespace!.ok ? facts.namespace!.value : undefined
    if (!ns) return []
    const at = config.locate([...runner.path, 'kubernetes'])
    const podName = r.pod.metadata?.name ?? ''
    const out: FindingInput[] = []
    for (const m of MODES) {
      const level = parseLevel(ns.labels[`pod-security.kubernetes.io/${m.mode}`])
      if (!level || level === 'privileged') continue
      const version = parseVersion(ns.labels[`pod-security.kubernetes.io/${m.mode}-version`])
      const violations = evaluatePodSecurity(r.pod, level, version)
      if (violations.length === 0) continue
      const sentence = podSecurityMessage(level, version, violations)
      const toml = combinedFix(violations, runner.name || undefined)
      out.push({
        severity: m.severity,
        message: `the job pod breaks Pod Security "${level}:${showVersion(version)}" and ${m.says(ns.name)}: ${m.mode === 'enforce' ? `pods "${podName}" is forbidden: ${sentence}` : m.mode === 'warn' ? `Warning: would ${sentence.replace(/^violates/, 'violate')}` : sentence}`,
        at,
        fix: { text: violations.map((v) => `${v.reason}: ${v.fix.text}`).join(' '), ...(toml ? { toml } : {}) },
        catalog: ['pod-security-admission'],
        details: { mode: m.mode, level, version: showVersion(version), violations: violationDetails(violations) },
      })
    }
    const openshift = facts.openshiftScc?.ok ? facts.openshiftScc.value : false
    if (openshift) {
      const scc = evaluateRestrictedV2(r.pod, { ...(ns.annotations ? { annotations: ns.annotations } : {}) })
      if (scc.length > 0) {
        // A warning, not a failure: the service account may have been granted a wider SCC (anyuid, …),
        // which gkr cannot see without reading SCCs and RBAC for the use verb.
        out.push({
          severity: 'warn',
          message: `the job pod does not fit OpenShift's restricted-v2 SecurityContextConstraints, the one service accounts get by default; unless the runner's service account may use a wider SCC, every job pod is rejected: ${sccMessage(podName, scc)}`,
          at,
          fix: { text: [...new Set(scc.map((v) => v.fix))].join(' ') },
          catalog: ['openshift-scc'],
          details: { scc: 'restricted-v2', violations: scc },
        })
      }
    }
    return out
  },
})
