import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CATALOG, getEntry, suggestIds } from '../../src/catalog/index.js'
import { ALL_IDS, DOCUMENTED_IDS, OWN_IDS, TROUBLESHOOTING_PAGE } from '../../src/catalog/ids.js'
import { entriesMatchingLine, matchMessage } from '../../src/catalog/match.js'
import { renderCatalogDocs } from '../../src/catalog/render.js'
import { findCheck } from '../../src/checks/registry.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const SEEDS = path.join(ROOT, '..', 'shared', 'reference', 'seeds')

describe('catalog data', () => {
  it('has exactly one entry per id, in id order', () => {
    expect(CATALOG.map((e) => e.id)).toEqual([...ALL_IDS])
    expect(new Set(CATALOG.map((e) => e.id)).size).toBe(CATALOG.length)
  })

  it('links documented entries to the page anchor and own entries to docs/catalog.md', () => {
    for (const id of DOCUMENTED_IDS) expect(getEntry(id)!.ref).toBe(`${TROUBLESHOOTING_PAGE}#${id}`)
    for (const id of OWN_IDS) expect(getEntry(id)!.ref).toBe(`docs/catalog.md#${id}`)
  })

  it('covers every ## section of the troubleshooting page (anchors from the Japanese page)', () => {
    let ja: string
    try {
      ja = readFileSync(path.join(SEEDS, '001_4dfbc17e778909f6.txt'), 'utf8')
    } catch {
      return // reference material not present outside the workspace
    }
    const anchors = [...ja.matchAll(/^## .*\{#([a-z0-9_-]+)\}\s*$/gm)].map((m) => m[1])
    expect(anchors).toEqual([...DOCUMENTED_IDS])
  })

  it('gives every entry symptoms, examples, a fix, causes and a Japanese text', () => {
    for (const e of CATALOG) {
      expect(e.symptoms.length, e.id).toBeGreaterThan(0)
      expect(e.examples.length, e.id).toBeGreaterThan(0)
      expect(e.fix.steps.length, e.id).toBeGreaterThan(0)
      expect(e.causes.length, e.id).toBeGreaterThan(0)
      expect(e.ja.title, e.id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/)
      expect(e.ja.explanation, e.id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/)
      expect(e.ja.fix.length, e.id).toBeGreaterThan(0)
      for (const s of e.symptoms) expect(s.needle, e.id).toBe(s.needle.toLowerCase())
    }
  })

  it('maps every example line to its own entry, strictly ahead of any other entry', () => {
    for (const e of CATALOG) {
      for (const line of e.examples) {
        expect(matchMessage(line)?.id, line).toBe(e.id)
        const all = entriesMatchingLine(line)
        expect(all[0]?.id, line).toBe(e.id)
        if (all[1]) expect(all[1].weight, `${line} also matches ${all[1].id} with the same weight`).toBeLessThan(all[0]!.weight)
      }
    }
  })

  it('maps every example quoted on the troubleshooting page (seed 000) to its section', () => {
    const quoted: [string, string][] = [
      ['context-deadline-exceeded', 'Job failed (system failure): prepare environment: setting up build pod: context deadline exceeded'],
      ['context-deadline-exceeded', 'Error cleaning up pod: etcdserver: request timed out, possibly due to previous leader failure'],
      ['error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running', 'Error: Error cleaning up pod: Delete "https://xx.xx.xx.x:443/api/v1/namespaces/gitlab-runner/runner-0001": dial tcp xx.xx.xx.x:443 connect: connection refused'],
      ['request-did-not-complete-within-requested-timeout', 'Job failed (system failure): prepare environment: setting up credentials: Internal error occurred: failed calling webhook "example.webhook.service"'],
      ['error-could-not-resolve-host-examplecom', "fatal: unable to access 'https://gitlab-ci-token:token@example.com/repo/proj.git/': Could not resolve host: example.com"],
      ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows', String.raw`MountVolume.SetUp failed for volume "kube-api-access-xxxxx" : chown c:\var\lib\kubelet\pods\x\volumes\kubernetes.io~projected\kube-api-access-xxxxx\..2022_07_07_20_52_19.102630072\token: not supported by windows`],
      ['error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies', "Preparation failed: invalid pull policy for image 'image-name:latest': pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([])"],
      ['runner-pod-fails-to-run-job-results-and-times-out-despite-successful-registration', 'This job does not have a trace.'],
      ['services-not-supported-with-windows-containers', 'ERROR: Job failed (system failure): prepare environment: admission webhook "windows.common-webhooks.networking.gke.io" denied the request: spec.hostAliases: Invalid value: []v1.HostAlias{v1.HostAlias{IP:"127.0.0.1", Hostnames:[]string{"<your windows image>"}}}: Windows does not support this field.'],
      ['docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running', 'docker: Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?'],
      ['curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443', 'curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to github.com:443'],
    ]
    for (const [id, line] of quoted) expect(matchMessage(line)?.id, line).toBe(id)
  })

  it('names only doctor checks that exist', () => {
    for (const e of CATALOG) for (const c of e.checks) expect(findCheck(c), `${e.id} → ${c}`).toBeDefined()
  })

  it('suggests near ids for typos', () => {
    expect(suggestIds('quota-exeeded')[0]).toBe('quota-exceeded')
    expect(suggestIds('oom')).toContain('oom-killed')
  })

  it('keeps docs/catalog.md in step with the data', () => {
    const committed = readFileSync(path.join(ROOT, 'docs', 'catalog.md'), 'utf8')
    expect(committed, 'docs/catalog.md is stale: run `npm run docs`').toBe(renderCatalogDocs())
  })

  it('renders the Japanese docs deterministically', () => {
    const ja = renderCatalogDocs('ja')
    expect(ja).toBe(renderCatalogDocs('ja'))
    expect(ja).toContain('# トラブルシューティングカタログ')
    for (const id of ALL_IDS) expect(ja).toContain(`## ${id}`)
  })
})
