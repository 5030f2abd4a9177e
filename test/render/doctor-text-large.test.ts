import { describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/doctor/report.js'
import { countFindings, summarize } from '../../src/doctor/report.js'
import { renderDoctorText } from '../../src/render/doctor-text.js'

describe('doctor text with a very large report', () => {
  it('renders 50,000 findings of one check (50k unknown keys under [runners.kubernetes]) without overflowing the stack', () => {
    const n = 50_000 // four lines each, as doctor prints them: 200,000 arguments to one push(...) overflowed
    const findings = Array.from({ length: n }, (_, i) => ({
      check: 'config-unknown-key', severity: 'warn' as const, runner: 'r', catalog: ['config-invalid'],
      message: `unknown key k${i}`, at: { file: 'config.toml', line: i + 7, column: 1 }, fix: { text: `Remove k${i}.` },
    }))
    const runners: DoctorReport['runners'] = [{ name: 'r', index: 0, results: [{ id: 'config-unknown-key', area: 'config', title: 'Unknown keys', severity: 'warn', status: 'warn', catalog: [], findings }] }]
    const report: DoctorReport = { mode: 'offline', config: { file: 'config.toml', format: 'toml' }, runners, summary: summarize(runners), findings: countFindings(runners), notes: [] }
    const text = renderDoctorText(report, { color: false })
    expect(text.split('\n').filter((l) => l.includes('unknown key k'))).toHaveLength(n)
    expect(text).toContain('config.toml:50006:1')
  })
})
