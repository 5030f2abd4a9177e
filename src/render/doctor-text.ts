import { Chalk } from 'chalk'
import type { CheckResult, Finding } from '../checks/types.js'
import { getEntry } from '../catalog/index.js'
import { formatLocation } from '../util/errors.js'
import type { DoctorReport } from '../doctor/report.js'

export interface TextOptions {
  color: boolean
  /** Show passing checks one by one (default: counted). */
  verbose?: boolean
}

const ORDER: Record<string, number> = { fail: 0, error: 1, warn: 2, skipped: 3, info: 4, pass: 5 }

/** The human report: grouped by runner, then by severity, with the fix under each finding. */
export function renderDoctorText(report: DoctorReport, opts: TextOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 })
  const label = {
    fail: c.red.bold('FAIL '),
    error: c.magenta.bold('ERROR'),
    warn: c.yellow.bold('WARN '),
    info: c.cyan('INFO '),
    skipped: c.dim('SKIP '),
    pass: c.green('PASS '),
  } as const
  const lines: string[] = []
  const how = report.cluster?.context ? ` (context ${report.cluster.context})` : report.cluster?.source === 'in-cluster' ? ' (in-cluster configuration)' : report.cluster?.source === 'runner-config' ? ' (host from the runner config)' : ''
  const where = report.mode === 'offline' ? 'offline (configuration only)' : `against ${report.cluster?.server ?? 'the cluster'}${how}${report.mode === 'live' ? ', live' : ''}`
  lines.push(c.bold(`gkr doctor: ${report.config.file} (${report.config.format === 'helm' ? 'Helm values' : 'config.toml'}), ${where}`))
  for (const n of report.notes) lines.push(c.dim(`  note: ${n}`))

  for (const runner of report.runners) {
    lines.push('', c.bold(`Runner ${runner.name}`))
    // Checks that only could not run offline are counted on one line (listed with --verbose): an
    // offline report is about the file, and eighteen "needs a cluster" lines would bury its findings.
    const offlineOnly = opts.verbose ? [] : runner.results.filter(skippedForOffline)
    const shown = [...runner.results].filter((r) => (opts.verbose || r.status !== 'pass') && !offlineOnly.includes(r)).sort((a, b) => ORDER[a.status]! - ORDER[b.status]! || a.id.localeCompare(b.id))
    const resultLines = (r: CheckResult): string[] => r.findings.length === 0
      ? [`  ${label[r.status]}  ${r.id}  ${r.title}${r.reason ? c.dim(` — ${r.reason}`) : ''}`]
      : [...r.findings].sort((x, y) => ORDER[x.severity]! - ORDER[y.severity]!).flatMap((f) => renderFinding(f, r, label[f.severity], c))
    // The counted line goes where the skipped checks would have stood: after the other skips.
    const split = shown.findIndex((r) => ORDER[r.status]! > ORDER.skipped!)
    const at = split < 0 ? shown.length : split
    for (const r of shown.slice(0, at)) append(lines, resultLines(r))
    if (offlineOnly.length > 0) lines.push(`  ${label.skipped}  ${plural(offlineOnly.length, 'cluster or GitLab check')} ${c.dim('— offline: they need the cluster or GitLab (--verbose lists them)')}`)
    for (const r of shown.slice(at)) append(lines, resultLines(r))
    const passed = runner.results.filter((r) => r.status === 'pass').length
    if (!opts.verbose && passed > 0) lines.push(`  ${label.pass}  ${passed} other check${passed === 1 ? '' : 's'} passed`)
  }

  lines.push('', summaryLine(report))
  if (report.stats) lines.push(c.dim(`API: ${report.stats.requests} requests${report.stats.retries ? ` (${report.stats.retries} of them retries)` : ''}${report.stats.connections !== undefined ? ` over ${report.stats.connections} connection${report.stats.connections === 1 ? '' : 's'}` : ''}, critical path ${report.stats.roundTrips} request${report.stats.roundTrips === 1 ? '' : 's'} deep (measured), ${Math.round(report.stats.durationMs)} ms`))
  return lines.join('\n') + '\n'
}

/**
 * Appends one by one: `push(...items)` passes every item as an argument and overflows the stack once a
 * check has tens of thousands of findings (50,000 unknown keys under [runners.kubernetes]).
 */
function append(to: string[], items: readonly string[]): void {
  for (const item of items) to.push(item)
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** Skipped only because doctor ran offline (every reason says so). */
const skippedForOffline = (r: CheckResult): boolean => r.status === 'skipped' && Boolean(r.reason) && r.reason!.split('; ').every((x) => x.startsWith('offline:'))

/**
 * The last line: findings by their own severity (what the report above lists), then checks by how
 * they ended. A check with one FAIL and one WARN finding adds one failure and one warning.
 */
export function summaryLine(report: DoctorReport): string {
  const s = report.summary
  const f = report.findings
  const withFindings = report.runners.reduce((a, r) => a + r.results.filter((c) => c.findings.length > 0).length, 0)
  const findings = `${plural(f.fail, 'failure')}, ${plural(f.warn, 'warning')}, ${f.info} info`
  return `Summary: ${findings}${withFindings > 0 ? ` (from ${plural(withFindings, 'check')})` : ''}; ${plural(s.pass, 'check')} passed, ${s.skipped} skipped, ${plural(s.error, 'error')}`
}

function renderFinding(f: Finding, r: CheckResult, label: string, c: InstanceType<typeof Chalk>): string[] {
  const out = [`  ${label}  ${c.bold(r.id)}  ${f.message}`]
  const at = formatLocation(f.at)
  if (at) out.push(`         at ${at}`)
  if (f.fix) {
    out.push(`         fix: ${f.fix.text}`)
    for (const [lang, text] of [['toml', f.fix.toml], ['yaml', f.fix.yaml], ['.gitlab-ci.yml', f.fix.ciYaml]] as const) {
      if (!text) continue
      out.push(c.dim(`         ${lang}:`))
      for (const l of text.trimEnd().split('\n')) out.push(`           ${c.green(l)}`)
    }
  }
  for (const id of f.catalog) {
    const e = getEntry(id)
    out.push(c.dim(`         see: ${e ? `${e.title} — ${e.ref}` : id}`))
  }
  return out
}
