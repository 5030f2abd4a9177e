/**
 * Five-field cron schedules as CronJobs use them (minute hour day-of-month month day-of-week, UTC):
 * numbers, `*`, ranges `a-b`, lists `a,b`, steps `*\/n` and `a-b/n`, month and weekday names, and the
 * `@hourly`-style macros. When both day fields are restricted a day matching either runs, as cron does.
 */

export interface Schedule {
  minutes: Set<number>
  hours: Set<number>
  days: Set<number>
  months: Set<number>
  weekdays: Set<number>
  /** Whether the day-of-month / day-of-week field started with `*` (then the other one alone decides). */
  anyDay: boolean
  anyWeekday: boolean
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
}
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

/** One field's values between `lo` and `hi`; names (JAN, MON) count from `nameBase`. */
function field(text: string, lo: number, hi: number, names: string[] = [], nameBase = 0): Set<number> {
  const out = new Set<number>()
  const num = (s: string): number => {
    const named = names.indexOf(s.toLowerCase())
    if (named >= 0) return named + nameBase
    if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}`)
    return Number(s)
  }
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/')
    if (extra !== undefined || range === undefined || range === '') throw new Error(`failed to parse ${part}`)
    const step = stepText === undefined ? 1 : num(stepText)
    if (step < 1) throw new Error(`step of range should be a positive number: ${part}`)
    let from: number
    let to: number
    if (range === '*' || range === '?') [from, to] = [lo, hi]
    else {
      const [a, b, more] = range.split('-')
      if (more !== undefined) throw new Error(`too many hyphens: ${part}`)
      from = num(a!)
      to = b === undefined ? (stepText === undefined ? from : hi) : num(b)
    }
    if (from < lo) throw new Error(`beginning of range (${from}) below minimum (${lo}): ${part}`)
    if (to > hi) throw new Error(`end of range (${to}) above maximum (${hi}): ${part}`)
    if (from > to) throw new Error(`beginning of range (${from}) beyond end of range (${to}): ${part}`)
    for (let v = from; v <= to; v += step) out.add(v)
  }
  return out
}

/** The schedule, or an Error saying what does not parse (the message the CronJob's event carries). */
export function parseSchedule(text: string): Schedule | Error {
  const expr = MACROS[text.trim()] ?? text.trim()
  const parts = expr.split(/\s+/)
  if (parts.length !== 5) return new Error(`expected exactly 5 fields, found ${parts.length}: ${text}`)
  try {
    return {
      minutes: field(parts[0]!, 0, 59),
      hours: field(parts[1]!, 0, 23),
      days: field(parts[2]!, 1, 31),
      months: field(parts[3]!, 1, 12, MONTHS, 1),
      weekdays: field(parts[4]!, 0, 6, WEEKDAYS),
      anyDay: parts[2]!.startsWith('*') || parts[2] === '?',
      anyWeekday: parts[4]!.startsWith('*') || parts[4] === '?',
    }
  } catch (err) {
    return err as Error
  }
}

function dayMatches(s: Schedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate())
  const dow = s.weekdays.has(d.getUTCDay())
  if (s.anyDay || s.anyWeekday) return dom && dow
  return dom || dow
}

/** The first schedule time strictly after `afterMs` (epoch ms, UTC), or undefined within five years. */
export function nextAfter(s: Schedule, afterMs: number): number | undefined {
  const start = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000)
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()))
  for (let i = 0; i < 5 * 366; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!s.months.has(day.getUTCMonth() + 1) || !dayMatches(s, day)) continue
    for (const h of [...s.hours].sort((a, b) => a - b)) {
      for (const m of [...s.minutes].sort((a, b) => a - b)) {
        const t = day.getTime() + h * 3_600_000 + m * 60_000
        if (t >= start.getTime()) return t
      }
    }
  }
  return undefined
}
