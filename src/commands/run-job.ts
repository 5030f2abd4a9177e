import process from 'node:process'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { clusterFlags, configFlags, includeDirFlag, jobIdentityFlags } from '../cli/flags.js'
import { runJob } from '../runjob/run.js'
import { systemClock } from '../runjob/clock.js'
import { PREDEFINED_HELP, runJobInput } from '../runjob/command-input.js'
import { createStageReporter, progressMode } from '../cli/progress.js'
import { STAGES } from '../runjob/live.js'
import { CleanupLedger, describeAbandoned } from '../runjob/ledger.js'
import { jobLogFilter } from '../cli/job-log.js'
import { useColor } from '../cli/output.js'

export default class RunJob extends BaseCommand {
  static override summary = 'Run one job of a local .gitlab-ci.yml through the Kubernetes executor flow.'
  static override description = `Renders every object the runner would create for the job (credentials secret, services, the pod with init-permissions, build, helper and service containers) and, by default, submits each with dryRun=All in the runner's order, so admission webhooks, quotas, LimitRanges and RBAC answer as they would for the real job — nothing persists. Each rejection is explained with the troubleshooting catalog.
With --live the job really runs: Prepare, Pre-build (the local working tree, honouring .gitignore), Build (before_script and script, then after_script, through pods/attach as the runner does by default, or pods/exec with FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY), Post-build (artifacts to --artifacts-dir) and Cleanup, which deletes everything gkr created, also on failure and Ctrl-C.
Predefined variables set for a local run: ${PREDEFINED_HELP}. Job keys gkr does not act on (needs, rules, trigger, …) are listed, not silently ignored.
Exit codes: 0 accepted / job succeeded, 1 rejected / job failed, 2 bad input, 3 cluster unreachable, authentication failed or cleanup left objects behind (they are listed with the kubectl command that removes them), 130 interrupted after cleanup (also when cleanup left something: it is named on stderr).`

  static override examples = [
    { description: 'Dry-run the test job against the current cluster', command: '<%= config.bin %> <%= command.id %> test --ci-file .gitlab-ci.yml -c config.toml' },
    { description: 'Run it for real and keep its artifacts', command: '<%= config.bin %> <%= command.id %> test -c config.toml --live --artifacts-dir ./artifacts' },
    { description: 'Try a job on the simulated cluster that enforces read-only root filesystems', command: '<%= config.bin %> sim run --scenario readonly-rootfs-policy -- <%= command.id %> build --ci-file .gitlab-ci.yml' },
  ]

  static override args = { job: Args.string({ description: 'Name of the job in the CI file.', required: true }) }

  static override flags = {
    ...configFlags,
    ...clusterFlags,
    'ci-file': Flags.string({ description: 'The .gitlab-ci.yml holding the job.', default: '.gitlab-ci.yml' }),
    ...includeDirFlag,
    var: Flags.string({ description: 'Job variable KEY=VALUE (repeatable; wins over the CI file).', multiple: true }),
    'dry-run': Flags.boolean({ description: 'Render and submit with dryRun=All (the default).', exclusive: ['live'] }),
    live: Flags.boolean({ description: 'Run the job in the cluster, then delete everything created.', default: false }),
    'as-runner': Flags.boolean({ description: 'Make every request, the exec/attach/log streams included, as the service account the config names (service_account), as the runner would.', default: false, exclusive: ['as'] }),
    'raw-log': Flags.boolean({ description: 'Print the job log byte for byte, ANSI colours and GitLab section markers included (for tools that read GitLab\'s log format). Without it, when the log does not go to a colour terminal (not a TTY, or NO_COLOR), colours are removed and sections become plain header lines.', default: false }),
    'artifacts-dir': Flags.string({ description: 'With --live: where artifact and cache paths are copied back to.' }),
    ...jobIdentityFlags,
  }

  /** Shared with runJob so that a second Ctrl-C (which exits at once) can say what is left. */
  private readonly ledger = new CleanupLedger()

  protected override onAbandon(): void {
    this.ledger.abandon()
    this.errOut.write(describeAbandoned(this.ledger))
  }

  public async run(): Promise<unknown> {
    const { args, flags } = await this.parse(RunJob)
    const input = await runJobInput({ ...flags, output: 'yaml', job: args.job })
    // With -o json|yaml stdout carries the envelope alone: the objects, the job log and the stages go to stderr.
    const sink = this.jsonEnabled() ? this.errOut : this.out
    const log = jobLogFilter(flags['raw-log'] || useColor(this.jsonEnabled() ? process.stderr : process.stdout) ? 'raw' : 'readable')
    const stages = createStageReporter(flags.live ? progressMode({ json: false }) : 'silent', STAGES.map((id) => ({ id, title: id[0]!.toUpperCase() + id.slice(1) })))
    let result
    try {
      result = await runJob({ ...input, clock: systemClock, signal: this.signal, ledger: this.ledger, onStage: stages.onStage, write: (t) => sink.write(log.push(t)) })
    } finally {
      sink.write(log.end())
      await stages.finish()
    }
    this.setExit(result.exitCode)
    return result
  }
}
