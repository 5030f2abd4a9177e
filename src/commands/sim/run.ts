import { spawn } from 'node:child_process'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { EXIT, type ExitCode } from '../../cli/exit-codes.js'

export default class SimRun extends BaseCommand {
  static override enableJsonFlag = false
  // It prints no result of its own: no -o/--output.
  static override baseFlags = BaseCommand.debugOnlyFlags as typeof BaseCommand.baseFlags
  static override strict = false
  static override summary = 'Run a gkr command against a simulated cluster (default: gkr doctor).'
  static override description = `Starts a scenario, runs the gkr command given after -- (default: doctor --as-runner, which checks permissions as the runner's service account) with KUBECONFIG and GKR_CONFIG pointing at the scenario's kubeconfig and runner config.toml, prints its output, stops the simulator and exits with the command's exit code. This is the one-command demo of what gkr finds.`

  static override examples = [
    { description: 'Run doctor against the scenario where the runner lacks pods/attach', command: '<%= config.bin %> <%= command.id %> --scenario rbac-missing-attach' },
    { description: 'Print the JSON report for the leaked-secrets scenario', command: '<%= config.bin %> <%= command.id %> --scenario quota-secrets-leaked -- doctor --json' },
    { description: 'Check the runner\'s RBAC against the simulated cluster', command: '<%= config.bin %> <%= command.id %> --scenario rbac-missing-attach -- rbac --check --as-runner' },
  ]

  static override flags = {
    scenario: Flags.string({ description: 'A built-in scenario name (gkr sim scenarios) or a scenario YAML file.', default: 'healthy' }),
  }

  public async run(): Promise<void> {
    const { flags, argv } = await this.parse(SimRun)
    const args = (argv as string[]).length > 0 ? (argv as string[]) : ['doctor', '--as-runner']
    // Loaded when the command runs: the simulator (TLS, WebSocket, tar) would slow every other command's start.
    const { start } = await import('../../sim/index.js')
    const sim = await start(flags.scenario)
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'run.js')
    try {
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
        this.signal.addEventListener('abort', () => child.kill('SIGINT'), { once: true })
        child.on('exit', (c, sig) => resolve(c ?? (sig ? EXIT.INTERRUPTED : EXIT.INTERNAL)))
      })
      this.setExit(code as ExitCode)
    } finally {
      await sim.stop()
    }
  }
}
