/** The output formats every result-printing command takes with -o/--output (--json is short for -o json). */
export const OUTPUT_FORMATS = ['text', 'json', 'yaml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const isFormat = (v: string | undefined): v is OutputFormat => (OUTPUT_FORMATS as readonly string[]).includes(v ?? '')

/**
 * The output format asked for on a command line, read before (or without) parsing it, so that an
 * error in parsing is itself reported in that format: `--json`, `-o json`, `-ojson`, `-o=json`,
 * `--output json`, `--output=json`; the last one wins, `--json` over everything; nothing after `--`.
 */
export function outputFormatOf(argv: readonly string[]): OutputFormat {
  let format: OutputFormat = 'text'
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') break
    if (a === '--json') return 'json'
    let value: string | undefined
    if (a === '-o' || a === '--output') value = argv[++i]
    else if (a.startsWith('--output=')) value = a.slice('--output='.length)
    else if (a.startsWith('-o=')) value = a.slice(3)
    else if (a.startsWith('-o') && a.length > 2 && !a.startsWith('--')) value = a.slice(2)
    if (isFormat(value)) format = value
  }
  return format
}
