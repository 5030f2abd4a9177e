import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { EXIT } from '../cli/exit-codes.js'
import { createProgress, progressMode } from '../cli/progress.js'
import { prepareDoctor } from '../doctor/prepare.js'
import { runDoctor } from '../doctor/run.js'
import { verdict, type FailOn } from '../doctor/report.js'
import { renderDoctorText } from '../render/doctor-text.js'
import { renderDoctorJunit } from '../render/doctor-junit.js'
import { renderDoctorSarif } from '../render/doctor-sarif.js'
import { clusterFlags, configFlags, configVersionFlags, includeDirFlag, splitList } from '../cli/flags.js'
import { writeReportFile } from '../cli/output.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Check a runner configuration against a cluster and explain what will make jobs fail.'
  static override description = `Loads the runner's config.toml (or Helm values.yaml), finds the cluster the way the runner does, reads everything it needs once (read-only: lists, access reviews and server-side dry-run creates), then runs every check in memory. Each finding names where it comes from, the fix to write and the troubleshooting-catalog entry that explains it.
Without a cluster (--offline, or when no kubeconfig or in-cluster configuration is found) only the configuration itself is checked.
Exit codes: 0 nothing failed, 1 a check failed (at --fail-on), 2 bad input, 3 the cluster could not be reached or checks could not run.`

  static override examples = [
    { description: 'Check the runner configuration against the current kubectl context', command: '<%= config.bin %> <%= command.id %> --config /etc/gitlab-runner/config.toml' },
    { description: 'Check a Helm values file as the runner\'s service account', command: '<%= config.bin %> <%= command.id %> -c values.yaml --as system:serviceaccount:gitlab-runner:gitlab-runner' },
    { description: 'Check the configuration alone, including the pull policies a pipeline asks for', command: '<%= config.bin %> <%= command.id %> --offline -c config.toml --ci-file .gitlab-ci.yml' },
    { description: 'Run inside a pipeline and publish a test report', command: '<%= config.bin %> <%= command.id %> -c config.toml --junit gkr-doctor.xml --fail-on warn' },
  ]

  static override flags = {
    ...configFlags,
    ...configVersionFlags,
    ...clusterFlags,
    offline: Flags.boolean({ description: 'Check the configuration alone; do not contact a cluster or GitLab.', default: false }),
    'ci-file': Flags.string({ description: 'A .gitlab-ci.yml whose jobs to check against the configuration (pull policies, services).' }),
    ...includeDirFlag,
    'as-runner': Flags.boolean({ description: 'Check permissions as the service account the config names (service_account).', default: false, exclusive: ['as'] }),
    live: Flags.boolean({ description: 'Also run a short-lived probe pod (DNS, MTU, time to start); it is always deleted.', default: false, exclusive: ['offline'] }),
    only: Flags.string({ description: 'Run only these checks (comma-separated ids or areas; `prefix*` matches a prefix).' }),
    skip: Flags.string({ description: 'Skip these checks (comma-separated ids or areas; `prefix*` matches a prefix).' }),
    'fail-on': Flags.string({ description: 'The lowest severity that makes the exit code 1.', options: ['fail', 'warn'], default: 'fail' }),
    junit: Flags.string({ description: 'Also write a JUnit XML report (one test case per check) to this file.' }),
    sarif: Flags.string({ description: 'Also write a SARIF 2.1.0 report to this file.' }),
    verbose: Flags.boolean({ char: 'v', description: 'List passing checks one by one.', default: false }),
  }

  public async run(): Promise<unknown> {
    const { flags } = await this.parse(Doctor)
    const prepared = await prepareDoctor({ ...flags, only: splitList(flags.only), skip: splitList(flags.skip) }, { signal: this.signal })
    if (this.jsonEnabled()) this.warningsOut.push(...prepared.notes)
    const progress = createProgress(progressMode({ json: this.jsonEnabled() }))
    const report = await runDoctor(prepared.input, { progress, signal: this.signal })
    // What doctor learnt from the cluster about the configuration (e.g. the runner version) follows the loader's notes.
    const learnt = report.notes
    report.notes = [...prepared.notes, ...learnt]
    if (this.jsonEnabled()) this.warningsOut.push(...learnt)
    const failOn = flags['fail-on'] as FailOn
    // The report is printed first: a report file that cannot be written must not hide it.
    if (!this.jsonEnabled()) this.out.write(renderDoctorText(report, { color: this.color, verbose: flags.verbose }))
    const v = verdict(report, failOn)
    this.setExit(v === 'failed' ? EXIT.FAILED : v === 'incomplete' ? EXIT.INCOMPLETE : EXIT.OK)
    if (flags.junit) await writeReportFile(flags.junit, renderDoctorJunit(report, { failOn }), '--junit')
    if (flags.sarif) await writeReportFile(flags.sarif, renderDoctorSarif(report, { checks: prepared.input.checks, version: this.config.version }), '--sarif')
    return report
  }
}
