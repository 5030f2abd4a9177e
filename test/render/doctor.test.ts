import { describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/doctor/report.js'
import { countFindings, summarize, verdict } from '../../src/doctor/report.js'
import { renderDoctorText } from '../../src/render/doctor-text.js'
import { renderDoctorJunit } from '../../src/render/doctor-junit.js'
import { renderDoctorSarif } from '../../src/render/doctor-sarif.js'
import { defineCheck } from '../../src/checks/types.js'

const pollCheck = defineCheck({
  id: 'config-poll-timeout',
  area: 'config',
  title: 'poll_timeout leaves pods time to start',
  description: 'A poll_timeout shorter than the time pods need to be scheduled fails jobs.',
  severity: 'warn',
  needs: [],
  catalog: ['job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  run: () => [],
})

function report(): DoctorReport {
  const runners: DoctorReport['runners'] = [
    {
      name: 'k8s <main>',
      index: 0,
      results: [
        {
          id: 'config-poll-timeout', area: 'config', title: pollCheck.title, severity: 'warn', status: 'fail', catalog: pollCheck.catalog,
          findings: [{
            check: 'config-poll-timeout', severity: 'fail', runner: 'k8s <main>', catalog: pollCheck.catalog,
            message: 'poll_timeout = 30 is shorter than the 180 s pods usually need here',
            at: { file: '/etc/gitlab-runner/config.toml', line: 12, column: 3 },
            fix: { text: 'Raise poll_timeout.', toml: '[runners.kubernetes]\npoll_timeout = 600' },
          }],
        },
        { id: 'cluster-rbac', area: 'cluster', title: 'Permissions', severity: 'fail', status: 'skipped', reason: 'cannot list pods (forbidden)', catalog: ['rbac-forbidden'], findings: [] },
        { id: 'config-executor', area: 'config', title: 'Executor is kubernetes', severity: 'fail', status: 'pass', catalog: ['config-invalid'], findings: [] },
      ],
    },
  ]
  return { mode: 'offline', config: { file: '/etc/gitlab-runner/config.toml', format: 'toml' }, runners, summary: summarize(runners), findings: countFindings(runners), notes: ['no cluster configuration found'] }
}

describe('doctor report renderers', () => {
  it('text: groups by runner, puts the fix and the catalog link under the finding, counts passes', () => {
    const text = renderDoctorText(report(), { color: false })
    expect(text).toContain('Runner k8s <main>')
    expect(text).toMatch(/FAIL\s+config-poll-timeout\s+poll_timeout = 30/)
    expect(text).toContain('at /etc/gitlab-runner/config.toml:12:3')
    expect(text).toContain('poll_timeout = 600')
    expect(text).toContain('https://docs.gitlab.com/runner/executors/kubernetes/troubleshooting/#job-failed-system-failure-timed-out-waiting-for-pod-to-start')
    expect(text).toMatch(/SKIP\s+cluster-rbac.*cannot list pods \(forbidden\)/)
    expect(text).toContain('1 other check passed')
    expect(text).toContain('Summary: 1 failure, 0 warnings, 0 info (from 1 check); 1 check passed, 1 skipped, 0 errors')
    expect(text.includes('\u001b[')).toBe(false)
  })

  it('text: checks skipped only because doctor ran offline are one line; --verbose lists them', () => {
    const r = report()
    const offline = (id: string, reason: string) => ({ id, area: 'cluster' as const, title: id, severity: 'fail' as const, status: 'skipped' as const, reason, catalog: [], findings: [] })
    r.runners[0]!.results.push(offline('cluster-quota', 'offline: needs quotas facts'), offline('cluster-probe-dns', 'offline: needs a cluster and --live'), offline('cluster-references', 'offline: needs secrets facts; offline: needs pvcs facts'))
    const text = renderDoctorText(r, { color: false })
    expect(text).toContain('SKIP   3 cluster or GitLab checks — offline: they need the cluster or GitLab (--verbose lists them)')
    expect(text).not.toMatch(/SKIP\s+cluster-quota/)
    // A check skipped for another reason (a forbidden read) is still listed on its own.
    expect(text).toMatch(/SKIP\s+cluster-rbac.*cannot list pods \(forbidden\)/)
    const verbose = renderDoctorText(r, { color: false, verbose: true })
    expect(verbose).toMatch(/SKIP\s+cluster-quota\s+cluster-quota — offline: needs quotas facts/)
    expect(verbose).not.toContain('cluster or GitLab checks')
  })

  it('text: the summary counts findings, not checks (one check with a FAIL and a WARN finding)', () => {
    const r = report()
    const check = r.runners[0]!.results[0]!
    check.findings.push({ ...check.findings[0]!, severity: 'warn', message: 'poll_timeout is close to the slowest start seen' }, { ...check.findings[0]!, severity: 'info', message: 'a note' })
    r.summary = summarize(r.runners)
    r.findings = countFindings(r.runners)
    expect(r.summary).toMatchObject({ fail: 1, warn: 0, info: 0 })
    expect(r.findings).toEqual({ fail: 1, warn: 1, info: 1 })
    const text = renderDoctorText(r, { color: false })
    expect(text).toMatch(/WARN\s+config-poll-timeout\s+poll_timeout is close/)
    expect(text).toContain('Summary: 1 failure, 1 warning, 1 info (from 1 check); 1 check passed, 1 skipped, 0 errors')
  })

  it('text: colours only when asked', () => {
    expect(renderDoctorText(report(), { color: true }).includes('\u001b[')).toBe(true)
  })

  it('junit: one test case per check, failure/skipped elements, XML-escaped', () => {
    const xml = renderDoctorJunit(report(), { failOn: 'fail' })
    expect(xml).toContain('<testsuite name="runner k8s &lt;main&gt;" tests="3" failures="1" errors="0" skipped="1">')
    expect((xml.match(/<testcase /g) ?? []).length).toBe(3)
    expect(xml).toMatch(/<failure message="poll_timeout = 30[^"]*" type="fail">/)
    expect(xml).toContain('<skipped message="cannot list pods (forbidden)"/>')
  })

  it('sarif: a rule per failing check and a result located in the config file', () => {
    const sarif = JSON.parse(renderDoctorSarif(report(), { checks: [pollCheck], version: '0.1.0', cwd: '/etc/gitlab-runner' }))
    expect(sarif.version).toBe('2.1.0')
    const run = sarif.runs[0]
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(['config-poll-timeout'])
    expect(run.results[0]).toMatchObject({
      ruleId: 'config-poll-timeout',
      level: 'error',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'config.toml' }, region: { startLine: 12, startColumn: 3 } } }],
    })
  })

  it('verdict: fail → failed; warn only fails with --fail-on warn; errors → incomplete', () => {
    const r = report()
    expect(verdict(r, 'fail')).toBe('failed')
    r.summary = { pass: 1, fail: 0, warn: 1, info: 0, skipped: 0, error: 0 }
    expect(verdict(r, 'fail')).toBe('ok')
    expect(verdict(r, 'warn')).toBe('failed')
    r.summary = { pass: 1, fail: 0, warn: 0, info: 0, skipped: 0, error: 1 }
    expect(verdict(r, 'fail')).toBe('incomplete')
  })
})
