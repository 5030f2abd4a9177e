import { Flags } from '@oclif/core'
import { parseGoDuration } from '../config/values.js'
import { parseRunnerVersion } from '../config/version.js'
import { usageError } from '../util/errors.js'
import { echoInput } from '../util/text.js'

/** The runner configuration flags every config-reading command shares. */
export const configFlags = {
  config: Flags.string({ char: 'c', description: 'The runner config.toml or Helm values.yaml (default: $GKR_CONFIG, then the runner\'s own default paths).' }),
  runner: Flags.string({ description: 'Check only the [[runners]] entry with this name (default: every Kubernetes runner).' }),
}

/** The identity of a job, so render and run-job name, mount and label objects exactly as for that job. */
export const jobIdentityFlags = {
  'job-id': Flags.integer({ description: 'The job id (names /scripts-<project>-<job>, the job annotations; default 1).', min: 0 }),
  'project-id': Flags.integer({ description: 'The project id (names runner-<token>-project-<id>-concurrent-<n>, the project labels; default 1).', min: 0 }),
  'concurrent-id': Flags.integer({ description: 'The concurrent id of the job on its runner (CI_CONCURRENT_ID; default 0).', min: 0 }),
  'runner-token': Flags.string({ description: 'The runner token the names are built from (its short form, as the runner uses it; never printed). Default: the config\'s token.' }),
}

export const DEFAULT_REQUEST_TIMEOUT = '15s'

/** Where `include: project:`, `template:` and `remote:` files of a --ci-file are read from (gkr downloads nothing). */
export const includeDirFlag = {
  'include-dir': Flags.string({ description: 'With --ci-file: a folder holding the files of its project:, template: and remote: includes, as DIR/GROUP/PROJECT/FILE, DIR/templates/NAME and DIR/HOST/PATH (local: includes are read from the project).' }),
}

/** kubectl's connection flags. */
export const clusterFlags = {
  kubeconfig: Flags.string({ description: 'Path to the kubeconfig file (default: $KUBECONFIG; otherwise in-cluster configuration in a pod, then ~/.kube/config).' }),
  context: Flags.string({ description: 'The kubeconfig context to use.' }),
  namespace: Flags.string({ char: 'n', description: 'The namespace jobs run in (default: the config\'s namespace).' }),
  as: Flags.string({ description: 'Check as this identity, e.g. system:serviceaccount:NS:NAME (impersonation).' }),
  'as-group': Flags.string({ description: 'With --as (or --as-runner): impersonate this group too, as kubectl\'s flag (repeatable).', multiple: true }),
  'request-timeout': Flags.custom<number>({
    description: `How long to wait for one Kubernetes API request before giving up, as kubectl's flag: a duration such as 5s or 1m (a bare number is seconds), between 1ms and 1h. A request that times out ends the command with exit 3. Default: ${DEFAULT_REQUEST_TIMEOUT}.`,
    parse: async (input) => parseRequestTimeout(input),
  })(),
}

export function splitList(v: string | undefined): string[] | undefined {
  if (!v) return undefined
  const items = v.split(',').map((s) => s.trim()).filter(Boolean)
  return items.length > 0 ? items : undefined
}

const MAX_REQUEST_TIMEOUT_MS = 3_600_000

/** --request-timeout in milliseconds: a Go duration or a bare number of seconds, 1 ms to 1 h (0, kubectl's "no limit", could hang forever). */
export function parseRequestTimeout(input: string): number {
  const s = input.trim()
  const ms = /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : parseGoDuration(s)
  if (ms === undefined || !Number.isFinite(ms)) throw usageError('bad-request-timeout', `${echoInput(input)} is not a duration such as 5s or 1m`, { at: { flag: '--request-timeout' } })
  if (ms < 1 || ms > MAX_REQUEST_TIMEOUT_MS) throw usageError('bad-request-timeout', `${echoInput(input)} is out of range: give between 1ms and 1h`, { at: { flag: '--request-timeout' } })
  return Math.round(ms)
}

/** doctor and rbac: -c repeatable (Helm values files merged in order, or a directory) and the runner version. */
export const configVersionFlags = {
  config: Flags.string({ char: 'c', multiple: true, description: 'The runner config.toml, or Helm chart values (plain, or a Flux HelmRelease, Argo CD Application, Helmfile or Terraform file holding them). Repeat it (or give a directory) to merge several values files in Helm\'s order: later files win. Default: $GKR_CONFIG, then the runner\'s own default paths.' }),
  'runner-version': Flags.custom<string>({
    description: 'The GitLab Runner version the configuration targets, e.g. 17.3 or v17.3.0 (default: the chart values\' image.tag, the chart version a GitOps file pins, or Chart.yaml next to the values).',
    parse: async (input) => parseRunnerVersionFlag(input),
  })(),
}

export function parseRunnerVersionFlag(input: string): string {
  const v = parseRunnerVersion(input)
  if (!v) throw usageError('bad-runner-version', `${echoInput(input)} is not a runner version such as 17.3 or v17.3.0`, { at: { flag: '--runner-version' } })
  return v
}
