import { BaseCommand } from '../../cli/base-command.js'

export default class SimScenarios extends BaseCommand {
  static override summary = 'List the built-in simulator scenarios.'
  static override description = 'Each scenario reproduces one documented failure of the Kubernetes executor (or, for healthy, none). Start one with `gkr sim start --scenario NAME` or run doctor against it with `gkr sim run --scenario NAME`.'
  static override examples = [{ description: 'List the scenarios', command: '<%= config.bin %> <%= command.id %>' }]

  public async run(): Promise<unknown> {
    await this.parse(SimScenarios)
    // Loaded when the command runs: the simulator (TLS, WebSocket, tar) would slow every other command's start.
    const { builtinScenarios } = await import('../../sim/index.js')
    const list = builtinScenarios()
    if (!this.jsonEnabled()) {
      const w = Math.max(...list.map((s) => s.name.length))
      for (const s of list) this.log(`${s.name.padEnd(w)}  ${s.description}`)
    }
    return list
  }
}
