/**
 * GitLab duration strings (`timeout: 1h 30m`, `3 hours`, `90 minutes`, `2d`) → seconds.
 * Returns undefined when the text is not a duration, so the caller can report where it came from.
 */
const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, wk: 604800, week: 604800, weeks: 604800,
  mo: 2592000, month: 2592000, months: 2592000,
  y: 31557600, yr: 31557600, year: 31557600, years: 31557600,
}

export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : undefined
  const text = input.trim().toLowerCase().replace(/\band\b/g, ' ').replace(/,/g, ' ')
  if (text === '') return undefined
  // A bare number is seconds, as GitLab reads it.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text))
  // hh:mm:ss or mm:ss
  if (/^\d+(:\d{1,2}){1,2}$/.test(text)) {
    return text.split(':').map(Number).reduce((acc, n) => acc * 60 + n, 0)
  }
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g
  let total = 0
  let consumed = ''
  for (const m of text.matchAll(re)) {
    const unit = UNITS[m[2]!]
    if (unit === undefined) return undefined
    total += Number(m[1]) * unit
    consumed += m[0]
  }
  if (consumed.replace(/\s+/g, '') !== text.replace(/\s+/g, '')) return undefined
  return Math.round(total)
}

/** Whole seconds written the way Go prints a time.Duration (the runner's messages): 90 → 1m30s, 3600 → 1h0m0s. */
export function goDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = s % 60
  if (h > 0) return `${h}h${m}m${rest}s`
  if (m > 0) return `${m}m${rest}s`
  return `${rest}s`
}
