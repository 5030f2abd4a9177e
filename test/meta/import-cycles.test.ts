import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/cli.js'

const SRC = path.join(ROOT, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/** Every relative module a file imports or re-exports, type-only imports included (they tie the layers together just the same). */
export function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false)
  const out: string[] = []
  const add = (spec: ts.Expression | undefined): void => {
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return
    out.push(path.resolve(path.dirname(file), spec.text.replace(/\.js$/, '.ts')))
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier)
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0])
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal as ts.Expression)
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** The import cycles of a graph, each once, as the files along it (Tarjan's strongly connected components, then one path per component). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const strong = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!idx.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        comp.push(w)
      } while (w !== v)
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) strong(v)
  return out
}

/**
 * Cycles that exist in areas other sessions own, each to be broken there; the list can only shrink: a
 * cycle not listed fails, and so does a listed one that is gone (remove it here).
 * - catalog diagnose ↔ match (types only): diagnose.ts takes Evidence/Match/RawHit from match.ts, which calls
 *   diagnose.ts. (catalog ↔ checks is gone: links.ts reads the generated check-links.ts, not ALL_CHECKS.)
 */
const KNOWN: readonly string[][] = [
  ['src/catalog/diagnose.ts', 'src/catalog/match.ts'],
]

describe('src/ has no import cycles', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]])
    expect(cycles(g)).toEqual([['a', 'b', 'c'], ['e']])
  })

  it('no module of src/ imports, through any chain, itself (but the known cycles listed above)', () => {
    const files = sources(SRC)
    const graph = new Map(files.map((f) => [f, importsOf(f)]))
    expect(files.length).toBeGreaterThan(100)
    // A broken relative import would hide an edge: every one resolves to a file of src/.
    expect([...graph.values()].flat().filter((t) => !graph.has(t))).toEqual([])
    expect(cycles(graph).map((c) => c.map((f) => path.relative(ROOT, f))).sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual(KNOWN)
  })
})
