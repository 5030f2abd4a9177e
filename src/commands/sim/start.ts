import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'

export default class SimStart extends BaseCommand {
  static override enableJsonFlag = false
  // It prints no result of its own: no -o/--output.
  static override baseFlags = BaseCommand.debugOnlyFlags as typeof BaseCommand.baseFlags
  static override summary = 'Start a simulated Kubernetes cluster that reproduces a runner failure.'
  static override description = `Serves a simulated Kubernetes API on 127.0.0.1 over HTTPS with its own CA, loaded with a scenario: the cluster's objects (namespaces, nodes, RBAC, quotas, webhooks…) and its behaviour (webhook time-outs, image pull failures, slow scheduling, API faults). Writes a kubeconfig (one context per identity of the scenario) and the runner config.toml that reproduces the scenario's failure, prints how to use them, and runs until Ctrl-C. kubectl and gkr talk to it like to any cluster. docs/sim.md describes scenarios and how to write your own.`

  static override examples = [
    { description: 'Start the scenario where the runner lacks pods/attach', command: '<%= config.bin %> <%= command.id %> --scenario rbac-missing-attach --kubeconfig /tmp/sim.kubeconfig --runner-config /tmp/config.toml' },
    { description: 'Start your own scenario on a fixed port with 50 ms of latency per request', command: '<%= config.bin %> <%= command.id %> --scenario ./my-cluster.yaml --port 6443 --latency 50' },
    { description: 'Start the healthy cluster behind a 100 ms round-trip link, to see what connection reuse buys', command: '<%= config.bin %> <%= command.id %> --scenario healthy --rtt 100' },
  ]

  static override flags = {
    scenario: Flags.string({ description: 'A built-in scenario name (gkr sim scenarios) or a scenario YAML file.', default: 'healthy' }),
    port: Flags.integer({ description: 'Port to listen on (default: a free one).', min: 0, max: 65535 }),
    kubeconfig: Flags.string({ description: 'Where to write the kubeconfig.' }),
    'runner-config': Flags.string({ description: 'Where to write the runner config.toml of the scenario.' }),
    latency: Flags.integer({ description: 'Added latency per request, in milliseconds (at most a minute).', min: 0, max: 60_000 }),
    rtt: Flags.integer({ description: 'Round-trip time of a simulated network link in front of the server, in milliseconds: every TCP and TLS handshake and every request pays it, as on a real network.', min: 0, max: 60_000 }),
  }

  public async run(): Promise<void> {
    const { flags } = await this.parse(SimStart)
    // Loaded when the command runs: the simulator (TLS, WebSocket, tar) would slow every other command's start.
    const { start } = await import('../../sim/index.js')
    const t0 = performance.now()
    const sim = await start(flags.scenario, { ...(flags.port !== undefined ? { port: flags.port } : {}), ...(flags.latency !== undefined ? { latencyMs: flags.latency } : {}), ...(flags.rtt !== undefined ? { rttMs: flags.rtt } : {}), ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {}), ...(flags['runner-config'] ? { runnerConfigPath: flags['runner-config'] } : {}) })
    this.log(`gkr sim: scenario ${sim.scenario.name} at ${sim.url} (ready in ${Math.round(performance.now() - t0)} ms)`)
    this.log(`  ${sim.scenario.description}`)
    this.log(`  kubeconfig:    ${sim.kubeconfig} (contexts: ${sim.scenario.identities.map((i) => i.name).join(', ')})`)
    this.log(`  runner config: ${sim.runnerConfig}`)
    this.log('')
    this.log(`  export KUBECONFIG=${sim.kubeconfig}`)
    this.log('  kubectl get nodes')
    this.log(`  ${this.config.bin} doctor --config ${sim.runnerConfig}`)
    this.log('')
    this.log('Press Ctrl-C to stop.')
    await new Promise<void>((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }))
    await sim.stop()
  }
}
