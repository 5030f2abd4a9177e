/**
 * Template placeholders in configuration files: Helm `{{ … }}`, Terraform `${…}` and `%{…}`. gkr cannot
 * evaluate them, so they are unknown values: masked before parsing (so the surrounding YAML or TOML
 * can still be read), then recorded with the key they stand for.
 */

/** One masked expression: the token that replaced it and the text it stood for. */
export interface Placeholder {
  token: string
  expr: string
}

/** A value gkr could not know because a template computes it. */
export interface UnknownValue {
  /** Where it is: a TOML key path (`runners.0.kubernetes.namespace`) or a Helm values path. */
  path: string
  expr: string
}

export interface Masked {
  text: string
  placeholders: Placeholder[]
}

const TOKEN = (n: number): string => `__gkr_tpl${n}__`
export const TOKEN_RE = /__gkr_tpl\d+_*/g

/** `{{ … }}` (Helm, Go templates), `%{ … }` (Terraform directives). `${…}` is plain text to YAML and is kept. */
const EXPRESSION = /\{\{-?[\s\S]*?-?\}\}|%\{[^}]*\}/g

/**
 * Masks template expressions so that YAML parses: a line holding only directives (`{{- if x }}`,
 * `%{ endif }`) becomes blank; an expression inside a line becomes a token of (about) the same length,
 * so positions on other lines stay exact.
 */
export function maskTemplates(text: string, start = 0): Masked {
  const placeholders: Placeholder[] = []
  if (!/\{\{|%\{/.test(text)) return { text, placeholders }
  let n = start
  const lines = text.split('\n').map((line) => {
    const stripped = line.replace(EXPRESSION, '')
    if (stripped.trim() === '' && line.trim() !== '' && EXPRESSION.test(line)) {
      EXPRESSION.lastIndex = 0
      return ' '.repeat(line.length)
    }
    EXPRESSION.lastIndex = 0
    return line.replace(EXPRESSION, (expr) => {
      const base = TOKEN(n++)
      const token = base.length >= expr.length ? base : base + '_'.repeat(expr.length - base.length)
      placeholders.push({ token, expr })
      return token
    })
  })
  return { text: lines.join('\n'), placeholders }
}

/** Puts the original expressions back into a string. */
export function unmask(s: string, placeholders: readonly Placeholder[]): string {
  if (!s.includes('__gkr_tpl')) return s
  let out = s
  for (const p of placeholders) out = out.split(p.token).join(p.expr)
  return out
}

/** Whether a string holds a template (masked or as written): `{{ }}`, `${ }` or `%{ }`. */
export function hasTemplate(s: string): boolean {
  return s.includes('__gkr_tpl') || /\{\{[\s\S]*\}\}|\$\{[^}]*\}|%\{[^}]*\}/.test(s)
}

/**
 * Quotes tokens that stand where a TOML value is expected (`poll_timeout = ${timeout}`), so the TOML
 * still parses; the key then holds the token and is recorded as unknown.
 */
export function quoteBareTokens(toml: string): string {
  return toml
    .split('\n')
    .map((line) => {
      const m = /^(\s*[A-Za-z0-9_."-]+\s*=\s*)(__gkr_tpl\d+_*|\$\{[^}]*\})\s*(#.*)?$/.exec(line)
      return m ? `${m[1]}"${m[2]}"${m[3] ? ` ${m[3]}` : ''}` : line
    })
    .join('\n')
}
