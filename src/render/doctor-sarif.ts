import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { DoctorReport } from '../doctor/report.js'
import type { Check } from '../checks/types.js'
import { getEntry } from '../catalog/index.js'
import { tokenMasker, type Masker } from '../util/secret.js'

const LEVEL = { fail: 'error', warn: 'warning', info: 'note' } as const

/**
 * SARIF 2.1.0: one rule per check, one result per finding, located in the config file. Every string is
 * masked as the runner masks a job log (the file is uploaded, where the command's output masking never reaches).
 */
export function renderDoctorSarif(report: DoctorReport, opts: { checks: readonly Check[]; version: string; cwd?: string; masker?: Masker }): string {
  const used = new Set(report.runners.flatMap((r) => r.results.filter((c) => c.findings.length > 0).map((c) => c.id)))
  const rules = opts.checks.filter((c) => used.has(c.id))
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]))
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  // SARIF 2.1.0 (§3.4.4): a relative uri needs a uriBaseId, resolved through the run's originalUriBaseIds.
  // Files under the working directory are relative to %SRCROOT% (what code-scanning uploads expect);
  // anything else gets an absolute file: URI.
  const location = (f: string): { uri: string; uriBaseId?: string } => {
    const abs = path.resolve(cwd, f)
    const rel = path.relative(cwd, abs)
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { uri: rel.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' }
    return { uri: pathToFileURL(abs).href }
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd + path.sep).href } },
        tool: {
          driver: {
            name: 'gkr',
            version: opts.version,
            informationUri: 'https://docs.gitlab.com/runner/executors/kubernetes/troubleshooting/',
            rules: rules.map((c) => ({
              id: c.id,
              name: c.id,
              shortDescription: { text: c.title },
              fullDescription: { text: c.description },
              defaultConfiguration: { level: LEVEL[c.severity] },
              ...(c.catalog[0] && getEntry(c.catalog[0]) ? { helpUri: getEntry(c.catalog[0])!.ref } : {}),
            })),
          },
        },
        results: report.runners.flatMap((runner) =>
          runner.results.flatMap((r) =>
            r.findings.map((f) => ({
              ruleId: r.id,
              ruleIndex: ruleIndex.get(r.id),
              level: LEVEL[f.severity],
              message: { text: `${f.message}${f.fix ? ` Fix: ${f.fix.text}` : ''}` },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: location(f.at?.file ?? report.config.file),
                    ...(f.at?.line ? { region: { startLine: f.at.line, ...(f.at.column ? { startColumn: f.at.column } : {}) } } : {}),
                  },
                },
              ],
              properties: { runner: runner.name, catalog: f.catalog },
            })),
          ),
        ),
      },
    ],
  }
  return JSON.stringify((opts.masker ?? tokenMasker).maskDeep(sarif), null, 2) + '\n'
}
