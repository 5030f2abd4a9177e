/**
 * explain v2's reading of a log: its structure, who printed each line, and the rules that keep, move or
 * dismiss a symptom in its context. Lines come from the corpus (test/catalog/corpus, real logs); the few
 * marked SYNTHETIC are variants written for these tests (a banner or a `$ cmd` echo around a real line).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import Explain from '../../src/commands/explain.js'
import { explain } from '../../src/catalog/explain.js'
import { explainLog } from '../../src/catalog/match.js'
import { emitterOf } from '../../src/catalog/structure.js'
import { EXECUTOR_RESOURCES } from '../../src/catalog/diagnose.js'
import { PERMISSION_TABLE } from '../../src/executor/permissions.js'
import { runCommand } from '../helpers/run-command.js'
import { schemaErrors } from './mini-schema.js'
import { CORPUS_DIR } from './corpus-score.js'

const corpus = (file: string): string => readFileSync(path.join(CORPUS_DIR, file), 'utf8')
const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'schemas', 'explain-result.schema.json'), 'utf8')) as Record<string, unknown>
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'gkr-explain-v2-'))

const FORBIDDEN = 'deployments.apps "web" is forbidden: User "system:serviceaccount:ci:default" cannot get resource "deployments" in API group "apps" in the namespace "production"'
const PODS_FORBIDDEN = 'pods "runner-abc-project-1-concurrent-0" is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "pods" in API group "" in the namespace "ci"'

describe('log structure', () => {
  it('reads the executor from the banner, the verdict, the stage and the last `$ cmd` (SYNTHETIC job log around a real line)', async () => {
    const log = [
      'Running with gitlab-runner 17.5.0 (abcdef12)',
      '\x1b[0Ksection_start:1732412345:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the "kubernetes" executor\x1b[0;m',
      'Using Kubernetes executor with image alpine:3.20 ...',
      '\x1b[0Ksection_start:1732412399:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m',
      '\x1b[32;1m$ kubectl apply -f k8s/\x1b[0;m',
      `Error from server (Forbidden): error when retrieving current configuration of: ${FORBIDDEN}`,
      '\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m',
    ].join('\n')
    const d = await explainLog(log)
    expect(d.structure).toMatchObject({ executor: 'kubernetes', stages: ['step_script'], verdict: { kind: 'script-failure', exitCode: 1, lineNumber: 7 } })
    expect(d.matches[0]).toMatchObject({ id: 'job-rbac-forbidden', lineNumber: 6 })
    expect(d.matches[0]!.evidence[0]).toMatchObject({ emitter: 'kubectl', stage: 'step_script', command: 'kubectl apply -f k8s/' })
    // The same answer however the stream is cut (the stage and command carry across chunks).
    for (const size of [1, 7, 64]) {
      const parts = [...Array(Math.ceil(log.length / size)).keys()].map((i) => log.slice(i * size, (i + 1) * size))
      const again = await explainLog((async function* () { yield* parts })())
      expect(again.matches, `chunks of ${size}`).toEqual(d.matches)
      expect(again.structure).toEqual(d.structure)
    }
  })

  it('tells who printed a line from its grammar', () => {
    expect(emitterOf('ERROR: Job failed (system failure): prepare environment: timed out waiting for pod to start')).toBe('runner')
    expect(emitterOf('Error from server (Forbidden): error when creating "pod.yaml": pods "p" is forbidden: …')).toBe('kubectl')
    expect(emitterOf('Error: UPGRADE FAILED: could not get information about the resource: …')).toBe('helm')
    expect(emitterOf('is forbidden: User', { terraformBox: true })).toBe('terraform')
    expect(emitterOf('  Warning  Failed     2s (x2 over 16s)  kubelet, controlplane  Failed to pull image "tutum/curl"')).toBe('kubelet')
    expect(emitterOf('May  8 14:05:27 doris-03 kernel: Memory cgroup out of memory: Kill process 24984 (palo_be) score 968 or sacrifice child')).toBe('kernel')
    expect(emitterOf('dial tcp 127.0.0.1:5432: connect: connection refused', { inScript: true })).toBe('job')
    expect(emitterOf('something', { command: 'helm upgrade --install web ./chart' })).toBe('helm')
  })

  it('recognises another CI system and other executors, where Kubernetes job-pod entries cannot apply', async () => {
    const gh = await explainLog(corpus('068-dns-actions-docker-network.log'))
    expect(gh.structure.foreignCi).toBe('github-actions')
    expect(gh.answer).toEqual({ kind: 'none' })
    expect(gh.dismissed[0]).toMatchObject({ id: 'error-could-not-resolve-host-examplecom', reason: expect.stringContaining('github-actions') })
    const dm = await explainLog(corpus('020-docker-machine-prepare-exit-255.log'))
    expect(dm.structure.executor).toBe('docker+machine')
  })
})

describe('whose problem it is', () => {
  it('a forbidden printed by kubectl in the job script is the job\'s RBAC, with its own Role in the advice', async () => {
    const r = await explain({ input: `$ kubectl get deploy -n production\nError from server (Forbidden): ${FORBIDDEN}` })
    expect(r.answer).toMatchObject({ kind: 'diagnosis', id: 'job-rbac-forbidden' })
    expect(r.matches[0]!.fields).toMatchObject({ user: 'system:serviceaccount:ci:default', verb: 'get', resource: 'deployments', group: 'apps', namespace: 'production' })
    expect(r.matches[0]!.advice!.snippet!.text).toContain('name: ci-deployer')
  })

  it('the runner refused during prepare is the executor\'s RBAC', async () => {
    const r = await explain({ input: `ERROR: Job failed (system failure): prepare environment: setting up build pod: ${PODS_FORBIDDEN}` })
    expect(r.answer).toMatchObject({ kind: 'diagnosis', id: 'rbac-forbidden' })
  })

  it('reads the older phrasing (no "resource", no "API group") and splits resource.group', async () => {
    const r = await explain({ input: corpus('001-kubectl-deploy-forbidden-old.log') })
    expect(r.matches[0]).toMatchObject({ id: 'job-rbac-forbidden', fields: { verb: 'get', resource: 'deployments', group: 'apps', namespace: 'gitlab' } })
    const tm = await explain({ input: corpus('007-tm-pods-exec-forbidden-old-phrasing.log') })
    expect(tm.matches[0]).toMatchObject({ id: 'rbac-forbidden', fields: { verb: 'create', resource: 'pods/exec', namespace: 'sebgoa' } })
  })

  it('joins a message terraform wrapped in its box and knows terraform printed it', async () => {
    const r = await explain({ input: corpus('005-terraform-in-job-prometheusrules-forbidden.log') })
    expect(r.matches[0]).toMatchObject({ id: 'job-rbac-forbidden', fields: { resource: 'prometheusrules', group: 'monitoring.coreos.com', namespace: 'prometheus-system' } })
    expect(r.matches[0]!.evidence[0]!.emitter).toBe('terraform')
  })

  it('--config: a denial for the job pods\' own service account is the job\'s RBAC', async () => {
    const dir = tmp()
    const config = path.join(dir, 'config.toml')
    writeFileSync(config, '[[runners]]\n  name = "k8s"\n  url = "https://gitlab.example.com"\n  token = "glrt-x"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    namespace = "ci"\n    service_account = "deployer"\n    helper_image_flavor = "ubuntu"\n')
    const bare = await explain({ input: PODS_FORBIDDEN })
    expect(bare.answer).toMatchObject({ kind: 'diagnosis', id: 'rbac-forbidden' })
    const r = await explain({ input: PODS_FORBIDDEN, config, env: {} })
    expect(r.context).toMatchObject({ executor: 'kubernetes', jobServiceAccount: 'deployer', helperFlavor: 'ubuntu' })
    expect(r.answer).toMatchObject({ kind: 'diagnosis', id: 'job-rbac-forbidden' })
    expect(r.matches[0]!.why).toContain('deployer')
  })

  it('--ci-file: jobs that deploy with kubectl make a bare denial a differential, with what tells them apart', async () => {
    const dir = tmp()
    const ci = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ci, 'deploy:\n  image: bitnami/kubectl\n  script:\n    - kubectl apply -f k8s/\n')
    const r = await explain({ input: PODS_FORBIDDEN.replace('ci:deployer', 'ci:runner'), ciFile: ci })
    expect(r.context).toMatchObject({ deployTools: true, dind: false })
    expect(r.answer.kind).toBe('differential')
    if (r.answer.kind !== 'differential') return
    expect(r.answer.candidates.map((c) => c.id)).toEqual(['rbac-forbidden', 'job-rbac-forbidden'])
    expect(r.answer.candidates[1]!.tellApart).toContain('kubectl auth can-i')
  })

  it('keeps the executor resources in step with the permission table', () => {
    const table = new Set(PERMISSION_TABLE.map((p) => p.resource))
    for (const r of EXECUTOR_RESOURCES) expect(table, r).toContain(r)
  })
})

describe('context-dependent diagnosis', () => {
  it('a database refusing connections in the job is not the Kubernetes API (and says why it was set aside)', async () => {
    const d = await explainLog(corpus('073-go-app-postgres-refused.log'))
    expect(d.answer).toEqual({ kind: 'none' })
    expect(d.dismissed).toEqual([expect.objectContaining({ id: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', lineNumber: 1, reason: expect.stringContaining('port 5432') })])
  })

  it('port 10250 is the kubelet, 2379 is etcd, 2375 is a Docker daemon', async () => {
    expect((await explainLog(corpus('044-kubectl-logs-kubelet-refused.log'))).answer).toMatchObject({ id: 'kubelet-unreachable' })
    expect((await explainLog(corpus('117-apiserver-etcd-refused-2379.log'))).answer).toMatchObject({ id: 'context-deadline-exceeded' })
    const docker = await explainLog(corpus('080-docker-machine-dind-wrong-host.log'))
    expect(docker.answer).toEqual({ kind: 'none' })
    expect(docker.dismissed[0]!.reason).toContain('Docker daemon')
  })

  it('a Docker socket client, or the Docker executor, is not the Kubernetes dind entry; a bare tcp line is only tentative', async () => {
    expect((await explainLog(corpus('014-dind-image-host-flag.log'))).answer).toEqual({ kind: 'none' })
    const banner = `Running with gitlab-runner 16.2.0\nUsing Docker executor with image docker:24 ...\n${corpus('081-gitlab-ci-local-no-dind.log')}` // SYNTHETIC banner
    expect((await explainLog(banner)).answer).toEqual({ kind: 'none' })
    const bare = await explainLog(corpus('081-gitlab-ci-local-no-dind.log'))
    expect(bare.answer).toMatchObject({ kind: 'tentative', id: 'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running', why: expect.stringContaining('executor') })
  })

  it('a kubelet event "Error: context deadline exceeded" is the container runtime, not the API server', async () => {
    const d = await explainLog(corpus('147-reserve-name-gke-large-image.log'))
    expect(d.answer).toEqual({ kind: 'none' })
    expect(d.dismissed[0]).toMatchObject({ id: 'context-deadline-exceeded', reason: expect.stringContaining('kubelet') })
  })

  it('exit code 137 alone is a differential (OOM, node pressure, disruption); OOMKilled is a diagnosis', async () => {
    const d = await explainLog('ERROR: Job failed: command terminated with exit code 137')
    expect(d.answer.kind).toBe('differential')
    if (d.answer.kind === 'differential') {
      expect(d.answer.candidates.map((c) => c.id)).toEqual(['oom-killed', 'node-pressure-eviction', 'disruption-eviction'])
      expect(d.answer.candidates[0]!.tellApart).toContain('OOMKilled')
    }
    expect((await explainLog(corpus('123-runner-oomkilled-build-container.log'))).answer).toMatchObject({ kind: 'diagnosis', id: 'oom-killed' })
    expect((await explainLog(corpus('042-eviction-exit-137-not-oom.log'))).answer).toMatchObject({ kind: 'diagnosis', id: 'node-pressure-eviction' })
  })

  it('pending-pod conditions alone are tentative; dismissed once the log shows the script ran', async () => {
    expect((await explainLog(corpus('012-runner-waiting-containers-not-ready.log'))).answer).toMatchObject({ kind: 'tentative', id: 'job-failed-system-failure-timed-out-waiting-for-pod-to-start' })
    const later = `${corpus('012-runner-waiting-containers-not-ready.log')}\nsection_start:1732412399:step_script\r\x1b[0KExecuting "step_script" stage of the job script\n$ make test\n` // SYNTHETIC continuation
    expect((await explainLog(later)).answer).toEqual({ kind: 'none' })
  })

  it('"would violate PodSecurity" is a warning, "violates PodSecurity" a denial; wrapped SCC messages are joined', async () => {
    expect((await explainLog(corpus('024-psa-would-violate-warning.log'))).matches).toEqual([])
    expect((await explainLog(corpus('023-psa-restricted-multiline.log'))).matches[0]).toMatchObject({ id: 'pod-security-admission', fields: { level: 'restricted', version: 'latest' } })
    expect((await explainLog(corpus('036-scc-yaml-wrapped-nessie.log'))).matches[0]!.id).toBe('openshift-scc')
  })
})

describe('gkr explain v2 as a command', () => {
  it('prints the differential and what tells the candidates apart; --json is schema-valid with evidence and confidence', async () => {
    const r = await runCommand(Explain, ['ERROR: Job failed: command terminated with exit code 137'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Several entries fit; most likely first:\n {2}- A container was killed for running out of memory \(OOMKilled \/ exit code 137\) {2}\[oom-killed\] \(\d+%\); tell apart: kubectl get pod/)
    const j = await runCommand(Explain, ['ERROR: Job failed: command terminated with exit code 137', '--json'])
    const result = JSON.parse(j.stdout).result
    expect(schemaErrors(schema, result)).toEqual([])
    expect(result.answer.candidates).toHaveLength(3)
    expect(result.matches[0]).toMatchObject({ confidence: expect.any(Number), evidence: [{ lineNumber: 1, emitter: 'runner' }] })
  })

  it('says what it set aside when nothing fits (exit 1), in text and JSON', async () => {
    const line = 'dial tcp 127.0.0.1:5432: connect: connection refused'
    const r = await runCommand(Explain, [line])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Set aside: line 1 looked like connection-refused-when-attempting-to-communicate-with-the-kubernetes-api, but port 5432 is a service')
    expect(r.stdout).toContain('Nothing in the text matches a catalog entry.')
    const j = JSON.parse((await runCommand(Explain, [line, '--json'])).stdout)
    expect(j.result).toMatchObject({ matched: false, answer: { kind: 'none' }, dismissed: [{ lineNumber: 1 }] })
    expect(schemaErrors(schema, j.result)).toEqual([])
  })

  it('a missing --config or --ci-file is a user mistake (exit 2), not a crash', async () => {
    const r = await runCommand(Explain, ['x', '--config', '/nonexistent/config.toml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('cannot read the runner configuration')
    const c = await runCommand(Explain, ['x', '--ci-file', '/nonexistent/.gitlab-ci.yml'])
    expect(c.code).toBe(2)
    expect(c.stderr).toContain('cannot read CI file')
  })
})
