/**
 * The shell scripts run-job sends to the build container: each step (before_script + script, then
 * after_script) wrapped in GitLab's collapsible section markers, each command echoed as `$ command`
 * before it runs, the step stopping at the first failing command (`set -e`, plus pipefail where the
 * shell has it), job variables exported first.
 */
const ESC = '\u001b'

export interface StepScript {
  /** Section name, e.g. step_script, after_script. */
  name: string
  /** Header shown on the section line. */
  header: string
  commands: string[]
  env?: Record<string, string>
  /** Directory to run in (CI_PROJECT_DIR). */
  cwd?: string
}

/** Single-quoted for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

const validName = (k: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)

export function stepScript(step: StepScript): string {
  const lines = [
    'set -e',
    '(set -o pipefail) 2>/dev/null && set -o pipefail',
    ...Object.entries(step.env ?? {}).filter(([k]) => validName(k)).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    `printf '${ESC}[0Ksection_start:%s:%s\\r${ESC}[0K%s\\n' "$(date +%s)" ${shQuote(step.name)} ${shQuote(step.header)}`,
  ]
  if (step.cwd) lines.push(`cd ${shQuote(step.cwd)}`)
  for (const cmd of step.commands) {
    const [first, ...rest] = cmd.replace(/\n+$/, '').split('\n')
    const shown = rest.length > 0 ? `${first} # collapsed multi-line command` : first!
    lines.push(`printf '%s\\n' ${shQuote(`${ESC}[32;1m$ ${shown}${ESC}[0;m`)}`)
    lines.push(cmd)
  }
  lines.push(`printf '${ESC}[0Ksection_end:%s:%s\\r${ESC}[0K\\n' "$(date +%s)" ${shQuote(step.name)}`)
  return `${lines.join('\n')}\n`
}

/** Removes section markers and colour codes, for plain logs and tests. */
export function plainLog(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[0Ksection_(start|end):\d+:[^\r]*\r\u001b\[0K/g, '').replace(/\u001b\[[0-9;]*m/g, '')
}
