/**
 * Fixes are exact where the rejection says what it wants (issue 17): a webhook that wants a label → the
 * [runners.kubernetes.pod_labels] table; a refused verb → the Role rule; instead of "see the catalog".
 * Through doctor's dry-run check and run-job's dry-run report.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { requiredLabels } from '../../src/catalog/advice.js'
import { runCheck } from '../../src/checks/run.js'
import dryRun from '../../src/checks/cluster/dry-run.js'
import { parseConfigText } from '../../src/config/load.js'
import type { FactTypes } from '../../src/checks/facts.js'
import { start } from '../../src/sim/index.js'
import { runOnSim } from '../runjob/sim-harness.js'

const config = parseConfigText('[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\n', '/x/config.toml')
const rejected = (message: string, status = 403, reason = 'Forbidden') =>
  runCheck(dryRun, { config, runner: config.runners[0]!, facts: { dryRun: { ok: true, value: [{ kind: 'Pod', name: 'p', accepted: false, status, reason, message }] as FactTypes['dryRun'] } }, options: { online: true, live: false } }).findings[0]!

describe('concrete fixes', () => {
  it('reads the labels a policy wants, as Gatekeeper, Kyverno and hand-written webhooks word it', () => {
    expect(requiredLabels('missing required label: team')).toEqual(['team'])
    expect(requiredLabels('you must provide labels: {"team", "owner"}')).toEqual(['team', 'owner'])
    expect(requiredLabels("validation error: label 'team' is required. rule check-team failed")).toEqual(['team'])
    expect(requiredLabels('pods must carry the label "cost-center"')).toEqual(['cost-center'])
    expect(requiredLabels('image registry.example.com/x is not allowed')).toEqual([])
  })

  it('doctor\'s dry-run check: a webhook denial that wants a label gets the pod_labels TOML', () => {
    const f = rejected('admission webhook "k8srequiredlabels.gatekeeper.sh" denied the request: missing required label: team')
    expect(f.fix!.toml).toBe('[runners.kubernetes.pod_labels]\n  "team" = "<value>"')
    expect(f.fix!.text).toMatch(/^The webhook "k8srequiredlabels\.gatekeeper\.sh" wants the label team on the job pod\./)
    expect(f.fix!.text).not.toMatch(/^See /)
  })

  it('doctor\'s dry-run check: a refused verb gets the Role rule', () => {
    const f = rejected('pods "p" is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods" in API group "" in the namespace "ci"')
    expect(f.catalog).toEqual(['rbac-forbidden'])
    expect(f.fix!.yaml).toContain('  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["create"]')
    expect(f.fix!.yaml).toContain('kind: RoleBinding')
  })

  it('a denial gkr cannot read stays "see the catalog"', () => {
    expect(rejected('admission webhook "x.example.com" denied the request: image not allowed').fix).toEqual({ text: 'See `gkr catalog show webhook-denied`: An admission webhook or policy engine rejected the pod.' })
  })

  it('run-job on webhook-deny: the dry-run report prints the pod_labels table to add', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-fixes-'))
    const ciFile = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ciFile, 'test:\n  image: alpine:3.20\n  script: [echo hi]\n')
    const sim = await start('webhook-deny')
    try {
      const r = await runOnSim(sim, 'test', { ciFile })
      expect(r.result?.exitCode).toBe(1)
      expect(r.out).toContain('fix: The webhook "require-team-label.example.com" wants the label team on the job pod.')
      expect(r.out).toContain('\n              [runners.kubernetes.pod_labels]\n                "team" = "<value>"\n')
    } finally {
      await sim.stop()
    }
  })
})
