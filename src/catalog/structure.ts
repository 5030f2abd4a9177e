/**
 * What a job log says about itself, read the way an experienced engineer skims one: which executor
 * ran the job (the banner), which stage a line belongs to (section markers and stage headings), which
 * command the job was running (the `$ cmd` echo), how the job ended (system failure vs the script's
 * exit code) and who printed a given line (the runner, kubectl, helm, terraform, the kubelet's events,
 * the kernel, or the job's own command).
 *
 * Only lines that contain one of CONTEXT_NEEDLES (or a symptom needle) are ever looked at, so this
 * costs nothing on the ordinary build output that makes up almost all of a large log.
 */

export type Emitter = 'runner' | 'kubectl' | 'helm' | 'terraform' | 'kubelet' | 'kernel' | 'job' | 'unknown'

export type Verdict = { kind: 'system-failure' | 'script-failure'; lineNumber: number; exitCode?: number } | { kind: 'success'; lineNumber: number }

export interface LogStructure {
  /** From the banner: kubernetes, docker, docker+machine, shell, … (lower case). */
  executor?: string
  /** Another CI system's log (GitHub Actions), where no GitLab executor entry can apply. */
  foreignCi?: string
  /** The stages of the lines that show symptoms, in order, and step_script whenever the log has it. */
  stages: string[]
  verdict?: Verdict
}

/**
 * Lower-case literals of the lines that carry the banner and the verdict. Kept rare: each one is decoded
 * when it occurs. Stage markers are not among them (a log has one per stage, but a synthetic benchmark
 * may have one every few lines): the stage of a line is looked up backwards from the lines that show a
 * symptom, which are rare.
 */
export const CONTEXT_NEEDLES = [
  'executor',
  'job failed',
  'job succeeded',
  'build failed',
  'process completed with exit code',
  "the process '",
  '##[',
] as const

/** The stage a stage-marker line opens: a GitLab section marker or the runner's heading. */
export function stageOf(raw: string): string | undefined {
  const m = /section_start:\d+:([\w-]+)/.exec(raw) ?? /Executing "(\w+)" stage of the job script/.exec(raw)
  if (m) return m[1]
  if (raw.includes('Running after_script')) return 'after_script'
  return undefined
}

/** Byte literals of the stage markers, searched backwards from a symptom line. */
export const STAGE_MARKERS = ['section_start:', 'Executing "', 'Running after_script'].map((s) => Buffer.from(s))

/** Stages in which output comes from the job's own commands. */
const SCRIPT_STAGES = new Set(['step_script', 'build_script', 'after_script', 'script'])

export class StructureTracker {
  readonly structure: LogStructure = { stages: [] }
  private stage: string | undefined

  get currentStage(): string | undefined {
    return this.stage
  }

  inScript(): boolean {
    return this.stage !== undefined && SCRIPT_STAGES.has(this.stage)
  }

  /** Updates the structure from one banner or verdict line. */
  observe(line: string, lineNumber: number): void {
    const s = this.structure
    const ex = /Preparing the "([\w+-]+)" executor/.exec(line) ?? /\bUsing ([A-Za-z][\w+-]*(?: [\w+-]+)?) executor\b/.exec(line)
    if (ex && !s.executor) s.executor = ex[1]!.toLowerCase().replace(/ /g, '-')
    if (/##\[(?:group|endgroup|error|warning|command)\]|Error: Process completed with exit code \d+|The process '[^']+' failed with exit code \d+/.test(line)) s.foreignCi ??= 'github-actions'
    const failed = /\bJob failed \(system failure\)/.exec(line)
    if (failed) s.verdict = { kind: 'system-failure', lineNumber }
    else {
      const code = /\b(?:Job|Build) failed(?::| with:)? (?:exit code|exit status) (\d+)/.exec(line) ?? /\bJob failed: command terminated with exit code (\d+)/.exec(line)
      if (code) s.verdict = { kind: 'script-failure', lineNumber, exitCode: Number(code[1]) }
      else if (/\bJob succeeded\b/.test(line)) s.verdict = { kind: 'success', lineNumber }
    }
  }

  /** The stage the scanner is in (found from the last marker before a symptom line or a chunk's end). */
  enter(stage: string): void {
    this.stage = stage
  }

  /** A stage the log reached, without making it the current one (a marker seen in a later chunk). */
  saw(stage: string): void {
    if (!this.structure.stages.includes(stage)) this.structure.stages.push(stage)
  }
}

/**
 * Who printed a line, from its own grammar first (kubectl's `Error from server`, helm's `Error: UPGRADE
 * FAILED`, terraform's box drawing, the runner's `ERROR: Job failed`, event tables, kernel timestamps),
 * then from where it appeared (inside the job script, after `$ kubectl …`).
 */
export function emitterOf(line: string, opts: { terraformBox?: boolean; inScript?: boolean; command?: string } = {}): Emitter {
  if (opts.terraformBox) return 'terraform'
  if (/\b(?:ERROR|WARNING): (?:Job failed|Preparation failed|Error cleaning up|Registering runner|Checking for jobs|Verifying runner|Failed to|Event retrieved)|^(?:Error: )?(?:Job failed|Error cleaning up)|\bWaiting for pod \S+ to be running|ContainersNotReady:|^\s*Running with gitlab-runner/.test(line)) return 'runner'
  if (/\bError: (?:UPGRADE FAILED|INSTALLATION FAILED|query: failed to query|server-side apply failed|release \S+ failed|rendered manifests)|^Release "/.test(line)) return 'helm'
  if (/(?:^|\s)Error from server\b|^(?:error|Unable to connect to the server|The connection to the server)\b/.test(line)) return 'kubectl'
  if (/\bkernel: |^\[\s*\d+\.\d+\] |^\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\] | invoked oom-killer:|Memory cgroup out of memory/.test(line)) return 'kernel'
  if (/\bkubelet\b|^\s*(?:Warning|Normal)\s+[A-Z]\w+\s|\b(?:FailedScheduling|FailedMount|FailedCreate|FailedAttachVolume|NotTriggerScaleUp)\b|^\s*(?:Message|Reason|Status):\s/.test(line)) return 'kubelet'
  const cmd = opts.command?.split(/\s+/)[0]
  if (cmd && /^(?:kubectl|oc|helm|terraform|tofu)$/.test(cmd)) return cmd === 'oc' ? 'kubectl' : cmd === 'tofu' ? 'terraform' : (cmd as Emitter)
  if (opts.inScript) return 'job'
  return 'unknown'
}
