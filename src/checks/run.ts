import type { Check, CheckContext, CheckResult, CheckStatus, Finding, Severity } from './types.js'
import type { Facts } from './facts.js'

const RANK: Record<Severity, number> = { info: 1, warn: 2, fail: 3 }

export function runnerLabel(ctx: Pick<CheckContext, 'runner'>): string {
  const name = ctx.runner.name || `#${ctx.runner.index}`
  return ctx.runner.release ? `${name} (${ctx.runner.release.label})` : name
}

/** Which facts a check needs that are missing, as a human reason; undefined when all are there. */
export function missingFacts(check: Check, facts: Facts, online = true): string | undefined {
  const reasons: string[] = []
  for (const name of check.needs) {
    const f = (facts as Record<string, { ok: boolean; reason?: string; forbidden?: { verb: string; resource: string; namespace?: string } } | undefined>)[name]
    if (!f) reasons.push(!online ? `offline: needs ${name === 'probe' ? 'a cluster and --live' : `${name} facts`}` : name === 'probe' ? 'needs --live (a short-lived probe pod)' : `${name} not gathered`)
    else if (!f.ok) {
      reasons.push(
        f.forbidden
          ? `cannot ${f.forbidden.verb} ${f.forbidden.resource}${f.forbidden.namespace ? ` in namespace ${f.forbidden.namespace}` : ''} (forbidden)`
          : `${name}: ${f.reason ?? 'not available'}`,
      )
    }
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined
}

/** Runs one check in one context. Never throws: a crash becomes status `error`. */
export function runCheck(check: Check, ctx: CheckContext): CheckResult {
  const base = { id: check.id, area: check.area, title: check.title, severity: check.severity, catalog: check.catalog }
  const missing = missingFacts(check, ctx.facts, ctx.options.online || Object.keys(ctx.facts).length > 0)
  if (missing) return { ...base, status: 'skipped', reason: missing, findings: [] }
  let out
  try {
    out = check.run(ctx)
  } catch (err) {
    return { ...base, status: 'error', reason: err instanceof Error ? err.message : String(err), findings: [] }
  }
  if (!Array.isArray(out)) return { ...base, status: 'skipped', reason: out.skipped, findings: [] }
  const findings: Finding[] = out.map((f) => ({
    ...f,
    check: check.id,
    severity: f.severity ?? check.severity,
    catalog: f.catalog ?? check.catalog,
    // A global finding of a file with several releases is about one release: say which.
    ...(check.scope !== 'global' ? { runner: runnerLabel(ctx) } : ctx.runner.release ? { runner: ctx.runner.release.label } : {}),
  }))
  return { ...base, status: statusOf(findings), findings }
}

export function statusOf(findings: Finding[]): CheckStatus {
  if (findings.length === 0) return 'pass'
  return findings.reduce<Severity>((w, f) => (RANK[f.severity] > RANK[w] ? f.severity : w), 'info')
}

export interface Selection {
  only?: string[]
  skip?: string[]
}

/** Applies --only/--skip (ids or areas; `*` suffix matches a prefix). */
export function selectChecks(checks: readonly Check[], sel: Selection): Check[] {
  const match = (c: Check, pat: string): boolean =>
    pat.endsWith('*') ? c.id.startsWith(pat.slice(0, -1)) : c.id === pat || c.area === pat
  return checks.filter(
    (c) => (!sel.only?.length || sel.only.some((p) => match(c, p))) && !sel.skip?.some((p) => match(c, p)),
  )
}
