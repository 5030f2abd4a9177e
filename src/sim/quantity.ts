/** Kubernetes quantities: parse to numbers, and print back in canonical form. */
const BIN: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }
const DEC: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }

export function q(v: unknown): number {
  if (typeof v === 'number') return v
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|m|k|M|G|T)?$/.exec(String(v ?? '').trim())
  if (!m) return 0
  return Number(m[1]) * (BIN[m[2] ?? ''] ?? DEC[m[2] ?? ''] ?? 1)
}

/** Prints a value in the style of the input it came from (binary stays binary), as the API server does. */
export function fmt(value: number, like: string, resource: string): string {
  const binary = /i$/.test(like) || (resource.includes('memory') && !/[kMGT]$/.test(like) && value >= 1024 && value % 1024 === 0)
  if (binary) {
    for (const [s, f] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (value % f === 0 && value >= f) return `${value / f}${s}`
    return String(value)
  }
  if (Number.isInteger(value)) return String(value)
  const milli = Math.round(value * 1000)
  return `${milli}m`
}
