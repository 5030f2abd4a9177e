import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { clusterFlags, configFlags, configVersionFlags, includeDirFlag } from '../cli/flags.js'
import { EXIT } from '../cli/exit-codes.js'
import { checkRbac, renderRbacMatrix } from '../kube/rbac-check.js'
import { loadConfig, selectRunners, kube } from '../config/load.js'
import { buildRbac, CLEANUP_PERMISSIONS, jobNeeds, requiredPermissions } from '../executor/permissions.js'
import { parseCiFile, selectJob } from '../ci/parse.js'
import { rbacHelmValues, rbacList, rbacObjects, rbacYaml } from '../executor/rbac-yaml.js'
import { usageError } from '../util/errors.js'
import { permissionsAt, versionedRunner } from '../config/version-rbac.js'

export default class Rbac extends BaseCommand {
  static override summary = 'Print the minimal Role the runner configuration needs.'
  static override description = `Computes every permission the Kubernetes executor needs for this configuration — following the runner's code, including the settings and feature flags that add or remove a permission — and prints a Role (or a ClusterRole when namespace_per_job or another cluster-scoped permission needs one). Every verb carries a comment saying why it is there. docs/rbac.md has the whole table.`

  static override examples = [
    { description: 'Print the Role for the runner configuration', command: '<%= config.bin %> <%= command.id %> -c /etc/gitlab-runner/config.toml' },
    { description: 'Also print the ServiceAccount and RoleBinding, ready for kubectl apply', command: '<%= config.bin %> <%= command.id %> -c config.toml --with-binding | kubectl apply -f -' },
    { description: 'Include what the jobs of a pipeline need (ports, CI_DEBUG_SERVICES)', command: '<%= config.bin %> <%= command.id %> -c config.toml --ci-file .gitlab-ci.yml' },
    { description: 'Print the rbac block of the Helm chart values', command: '<%= config.bin %> <%= command.id %> -c values.yaml --format helm' },
    { description: 'Print the Role a runner 16.11 needs for this configuration', command: '<%= config.bin %> <%= command.id %> -c values.yaml --runner-version 16.11' },
    { description: 'Print the Role gkr cleanup --yes needs', command: '<%= config.bin %> <%= command.id %> -c config.toml --for cleanup' },
    { description: 'Check the runner\'s service account against the cluster', command: '<%= config.bin %> <%= command.id %> -c config.toml --check --as system:serviceaccount:gitlab-runner:gitlab-runner' },
  ]

  static override flags = {
    ...configFlags,
    ...configVersionFlags,
    format: Flags.string({ description: 'Shape of the printed manifest: yaml (documents), json (one v1 List) — both for kubectl apply -f - — or helm (the chart\'s rbac values). -o json|yaml prints gkr\'s envelope instead, with the objects in result.objects.', options: ['yaml', 'json', 'helm'], default: 'yaml' }),
    'with-binding': Flags.boolean({ description: 'Also print the ServiceAccount and the (Cluster)RoleBinding.', default: false }),
    'cluster-role': Flags.boolean({ description: 'Print a ClusterRole even when a Role would do.', default: false }),
    for: Flags.string({ description: 'Whose permissions: the runner\'s executor, or what gkr cleanup needs (lists, and with --yes the deletes and the finalizer patch).', options: ['runner', 'cleanup'], default: 'runner' }),
    name: Flags.string({ description: 'Name of the Role and binding (default: gitlab-runner, or gkr-cleanup with --for cleanup).' }),
    'ci-file': Flags.string({ description: 'A .gitlab-ci.yml whose jobs add permissions (ports need services, CI_DEBUG_SERVICES needs pods/log).' }),
    ...includeDirFlag,
    job: Flags.string({ description: 'With --ci-file: only this job (default: every job of the file).' }),
    check: Flags.boolean({ description: 'Ask the cluster whether every required permission is granted (access reviews) and print a matrix; exit 1 when one is missing.', default: false }),
    'as-runner': Flags.boolean({ description: 'With --check: check as the service account the config names.', default: false }),
    ...clusterFlags,
  }

  public async run(): Promise<unknown> {
    const { flags } = await this.parse(Rbac)
    const config = await loadConfig({ path: flags.config, ...(flags['runner-version'] ? { runnerVersion: flags['runner-version'] } : {}) })
    const runners = selectRunners(config, flags.runner)
    if (runners.length !== 1) {
      throw usageError('rbac-runner-ambiguous', runners.length === 0 ? `no Kubernetes runner in ${config.file}` : `${config.file} has ${runners.length} Kubernetes runners (${runners.map((r) => r.name || `#${r.index}`).join(', ')}): choose one`, { at: { flag: '--runner' } })
    }
    const runner = config.runnerVersion ? versionedRunner(config, runners[0]!) : runners[0]!
    for (const note of config.notes ?? []) this.addWarning(note)
    const k = kube(runner)
    const forCleanup = flags.for === 'cleanup'
    if (forCleanup && flags['ci-file']) throw usageError('ci-file-for-cleanup', '--ci-file adds what jobs need, and --for cleanup prints what gkr cleanup needs: use one or the other', { at: { flag: '--ci-file' } })
    const ci = flags['ci-file'] ? await parseCiFile(flags['ci-file'], { ...(flags['include-dir'] ? { includeDir: flags['include-dir'] } : {}) }) : undefined
    if (flags.job && !ci) throw usageError('job-without-ci-file', '--job needs --ci-file', { at: { flag: '--job' } })
    const perms = forCleanup ? [...CLEANUP_PERMISSIONS] : permissionsAt(requiredPermissions(runner, ci ? jobNeeds(flags.job ? [selectJob(ci, flags.job)] : Object.values(ci.jobs)) : undefined), runner, config.runnerVersion?.version)
    if (flags.check) {
      const result = await checkRbac(runner, perms, flags)
      if (!this.jsonEnabled()) this.out.write(renderRbacMatrix(result, forCleanup ? 'gkr cleanup' : 'the runner'))
      this.setExit(result.missing.some((m) => !m.optional) ? EXIT.FAILED : EXIT.OK)
      return result
    }
    const objs = buildRbac(perms, { namespace: typeof k.namespace === 'string' && k.namespace ? k.namespace : 'default', name: flags.name ?? (forCleanup ? 'gkr-cleanup' : 'gitlab-runner'), clusterRole: flags['cluster-role'], withBinding: flags['with-binding'], compareWithDocs: !forCleanup, serviceAccount: typeof k.service_account === 'string' && k.service_account ? k.service_account : undefined })
    if (!this.jsonEnabled()) this.out.write(flags.format === 'helm' ? rbacHelmValues(objs) : flags.format === 'json' ? JSON.stringify(rbacList(objs), null, 2) + '\n' : rbacYaml(objs))
    return { runner: runner.name, kind: objs.kind, objects: rbacObjects(objs), permissions: perms }
  }
}
