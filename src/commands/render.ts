import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { EXIT } from '../cli/exit-codes.js'
import { configFlags, includeDirFlag, jobIdentityFlags } from '../cli/flags.js'
import { loadConfig, selectRunners } from '../config/load.js'
import { renderJob, RUNNER_LINE, RUNNER_VERSION } from '../executor/render.js'
import { jobMasker, objectsYaml, redactObject } from '../executor/output.js'
import { jobFromFlags, jobIdentity } from '../executor/job-input.js'
import { usageError } from '../util/errors.js'
import type { RenderedJob } from '../executor/render.js'

const podSecurityLine = (r: RenderedJob): string =>
  `Pod Security: the pod meets ${r.podSecurity.level}${r.podSecurity.notMet.map((n) => `; not ${n.level} (${n.reasons.join(', ')})`).join('')}`

export default class Render extends BaseCommand {
  static override summary = 'Print the Kubernetes objects the runner would create for a job.'
  static override description = `Renders, for one runner of the configuration and optionally one job of a .gitlab-ci.yml, the objects the Kubernetes executor creates, in the order it creates them: the registry-credentials secret, the build pod (init-permissions, build, helper and service containers) and proxy services. Secret values are printed as [REDACTED].
Behaviour follows the runner's ${RUNNER_LINE} release line; notes say which version-dependent behaviours applied. Exits 1 when the runner would refuse the job (disallowed image, pull policy not allowed, overwrite not allowed).`

  static override examples = [
    { description: 'Render the pod of the runner\'s default image', command: '<%= config.bin %> <%= command.id %> -c config.toml' },
    { description: 'Render the objects of one job', command: '<%= config.bin %> <%= command.id %> -c config.toml --ci-file .gitlab-ci.yml --job test' },
    { description: 'Reproduce the objects of job 4711 of project 42 on a runner', command: '<%= config.bin %> <%= command.id %> -c config.toml --ci-file .gitlab-ci.yml --job test --job-id 4711 --project-id 42 --concurrent-id 3 --runner-token "$RUNNER_TOKEN"' },
    { description: 'Check the rendered pod with kubectl', command: '<%= config.bin %> <%= command.id %> -c config.toml | kubectl create --dry-run=server -f -' },
  ]

  static override flags = {
    ...configFlags,
    'ci-file': Flags.string({ description: 'The .gitlab-ci.yml holding the job.' }),
    ...includeDirFlag,
    job: Flags.string({ description: 'The job to render (needs --ci-file).' }),
    var: Flags.string({ description: 'Extra job variable KEY=VALUE (repeatable), e.g. KUBERNETES_CPU_LIMIT=2.', multiple: true }),
    namespace: Flags.string({ char: 'n', description: 'Namespace to render into (default: the config\'s, after overwrites).' }),
    ...jobIdentityFlags,
  }

  public async run(): Promise<unknown> {
    const { flags } = await this.parse(Render)
    const config = await loadConfig({ path: flags.config })
    const runners = selectRunners(config, flags.runner)
    if (runners.length !== 1) throw usageError('render-runner-ambiguous', runners.length === 0 ? `no Kubernetes runner in ${config.file}` : `${config.file} has ${runners.length} Kubernetes runners: choose one with --runner`, { at: { flag: '--runner' } })
    const runner = runners[0]!
    const identity = jobIdentity(flags)
    const { job, variables } = await jobFromFlags(runner, flags, {}, identity)
    const r = renderJob({ runner, ...(job ? { job } : {}), variables, ...identity, ...(flags.namespace ? { namespace: flags.namespace } : {}) })
    const fatal = r.problems.filter((p) => p.fatal)
    const masker = jobMasker(runner, job, variables)
    if (!this.jsonEnabled()) {
      const header = [`objects gkr renders as GitLab Runner ${RUNNER_VERSION} (${RUNNER_LINE}) creates them, in creation order`, ...(config.notes ?? []), ...(job?.notes ?? []), ...r.notes.slice(1), podSecurityLine(r), ...r.order.filter((o) => o.owner === 'after-pod-create').map((o) => `${o.kind} ${o.name} gets its ownerReference to the pod right after the pod is created`)]
      this.out.write(objectsYaml(r.objects, header, masker))
      for (const p of r.problems) this.errOut.write(`${p.fatal ? 'Error' : 'Warning'}: ${masker.mask(p.message)}\n  See: gkr catalog show ${p.catalog}\n`)
    }
    if (fatal.length > 0) this.setExit(EXIT.FAILED)
    const safe = <T extends object>(o: T): T => redactObject(o, masker)
    return masker.maskDeep({ ...r, pod: safe(r.pod), secrets: r.secrets.map(safe), objects: r.objects.map(safe) })
  }
}
