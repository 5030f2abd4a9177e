import type { DoctorReport } from '../doctor/report.js'
import { formatLocation } from '../util/errors.js'
import { getEntry } from '../catalog/index.js'
import { tokenMasker, type Masker } from '../util/secret.js'

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!)
   // eslint-disable-next-line no-control-regex
   .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')

/**
 * A JUnit XML report as GitLab reads it (artifacts:reports:junit): one test suite per runner and one
 * test case per check. fail → <failure>, error → <error>, skipped → <skipped>; warnings and info
 * pass, with their findings in <system-out>, unless failOn is `warn`. Every text is masked as the runner
 * masks a job log (the file is uploaded as an artifact, where the command's own output masking never reaches).
 */
export function renderDoctorJunit(report: DoctorReport, opts: { failOn: 'fail' | 'warn'; masker?: Masker }): string {
  // Masked as the job log is (token-shaped values, and what the caller's masker knows), before escaping.
  const masker = opts.masker ?? tokenMasker
  const x = (s: string): string => esc(masker.mask(s))
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>']
  const all = report.runners.flatMap((r) => r.results)
  const failing = (s: string): boolean => s === 'fail' || (opts.failOn === 'warn' && s === 'warn')
  out.push(`<testsuites name="gkr doctor" tests="${all.length}" failures="${all.filter((r) => failing(r.status)).length}" errors="${all.filter((r) => r.status === 'error').length}" skipped="${all.filter((r) => r.status === 'skipped').length}">`)
  for (const runner of report.runners) {
    const res = runner.results
    out.push(`  <testsuite name="runner ${x(runner.name)}" tests="${res.length}" failures="${res.filter((r) => failing(r.status)).length}" errors="${res.filter((r) => r.status === 'error').length}" skipped="${res.filter((r) => r.status === 'skipped').length}">`)
    for (const r of res) {
      out.push(`    <testcase classname="gkr.${x(r.area)}" name="${x(r.id)}: ${x(r.title)}" file="${x(report.config.file)}">`)
      const body = r.findings
        .map((f) => {
          const refs = f.catalog.map((id) => getEntry(id)?.ref ?? id).join(' ')
          return [`[${f.severity}] ${f.message}`, formatLocation(f.at) && `at ${formatLocation(f.at)}`, f.fix && `fix: ${f.fix.text}`, f.fix?.toml, f.fix?.yaml, refs && `see: ${refs}`].filter(Boolean).join('\n')
        })
        .join('\n\n')
      if (failing(r.status)) out.push(`      <failure message="${x(r.findings[0]?.message ?? r.title)}" type="${r.status}">${x(body)}</failure>`)
      else if (r.status === 'error') out.push(`      <error message="${x(r.reason ?? 'check crashed')}" type="error"/>`)
      else if (r.status === 'skipped') out.push(`      <skipped message="${x(r.reason ?? 'skipped')}"/>`)
      else if (body) out.push(`      <system-out>${x(body)}</system-out>`)
      out.push('    </testcase>')
    }
    out.push('  </testsuite>')
  }
  out.push('</testsuites>')
  return out.join('\n') + '\n'
}
