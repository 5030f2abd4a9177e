/**
 * Checks a parsed YAML document (the `yaml` package) before it is turned into JavaScript values, for
 * what the parser itself reports without a position or not at all:
 * - an alias inside the node it refers to (`a: &x [*x]`): toJS builds a circular value, and every
 *   recursive walk over it (reference resolution, renderers, JSON output) overflows the stack;
 * - an alias to an anchor that is not defined (toJS throws a ReferenceError without a position);
 * - duplicate keys in a mapping, checked with one Set per mapping (the parser's `uniqueKeys` option
 *   compares each key with every key before it: quadratic, 2.4 s for a 16k-job CI file);
 * - "billion laughs": aliases whose expansion would build more than `maxExpandedNodes` nodes.
 * Each problem comes back with the offset of the node at fault, so callers can name file:line:column.
 */
import { isAlias, isCollection, isPair, isScalar, visit, type Document, type Node as YamlNode } from 'yaml'

export interface YamlProblem {
  message: string
  /** Character offset in the source. */
  offset: number
}

export interface YamlGuardOptions {
  /** `<<` merge keys may repeat when merge keys are on. */
  merge?: boolean
  /** Check for duplicate keys (what `uniqueKeys: true` does, in linear time). */
  uniqueKeys?: boolean
  /** The most nodes the document may expand to once aliases are replaced by what they point to. */
  maxExpandedNodes?: number
}

export const DEFAULT_MAX_EXPANDED_NODES = 1_000_000

/** The first problem found, or undefined when the document is safe to convert. */
export function checkYamlDocument(doc: Document, opts: YamlGuardOptions = {}): YamlProblem | undefined {
  let problem: YamlProblem | undefined
  const at = (n: { range?: [number, number, number] | null }): number => n.range?.[0] ?? 0
  visit(doc, {
    Alias(_key, node, path) {
      const source = node.resolve(doc)
      if (!source) {
        problem = { message: `alias *${node.source} refers to no anchor defined before it`, offset: at(node) }
        return visit.BREAK
      }
      if (path.includes(source)) {
        problem = { message: `alias *${node.source} is inside the node its anchor &${node.source} names (a value that contains itself)`, offset: at(node) }
        return visit.BREAK
      }
      return undefined
    },
    Map(_key, node) {
      if (!opts.uniqueKeys) return undefined
      const seen = new Set<unknown>()
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue
        const k = pair.key.value
        if (opts.merge && k === '<<') continue
        if (seen.has(k)) {
          problem = { message: `duplicate key ${String(k)}: map keys must be unique`, offset: at(pair.key) }
          return visit.BREAK
        }
        seen.add(k)
      }
      return undefined
    },
  })
  if (problem) return problem
  return checkExpansion(doc, opts.maxExpandedNodes ?? DEFAULT_MAX_EXPANDED_NODES)
}

/**
 * Counts the nodes the document expands to, each anchored node counted once and reused for every alias
 * to it (memoised; aliases are acyclic by now), without building anything. Iterative: deep nesting
 * must not overflow the stack either.
 */
function checkExpansion(doc: Document, limit: number): YamlProblem | undefined {
  const size = new Map<YamlNode, number>()
  // Post-order walk with an explicit stack.
  const root = doc.contents as YamlNode | null
  if (!root) return undefined
  const stack: Array<{ node: YamlNode; done: boolean }> = [{ node: root, done: false }]
  while (stack.length > 0) {
    const top = stack.pop()!
    const { node } = top
    if (size.has(node)) continue
    const children = childrenOf(doc, node)
    if (!top.done) {
      stack.push({ node, done: true })
      for (const c of children) if (!size.has(c)) stack.push({ node: c, done: false })
      continue
    }
    let n = 1
    for (const c of children) n += size.get(c) ?? 1
    if (n > limit) return { message: `aliases expand the document to more than ${limit} values (a "billion laughs" document)`, offset: node.range?.[0] ?? 0 }
    size.set(node, n)
  }
  return undefined
}

function childrenOf(doc: Document, node: YamlNode): YamlNode[] {
  if (isAlias(node)) {
    const s = node.resolve(doc)
    return s ? [s as YamlNode] : []
  }
  if (!isCollection(node)) return []
  const out: YamlNode[] = []
  for (const item of node.items as unknown[]) {
    if (isPair(item)) {
      if (item.key && typeof item.key === 'object') out.push(item.key as YamlNode)
      if (item.value) out.push(item.value as YamlNode)
    } else if (item && typeof item === 'object') out.push(item as YamlNode)
  }
  return out
}

/** Where the first alias of the document is (for errors toJS reports about aliases without a position). */
export function firstAliasOffset(doc: Document): number | undefined {
  let offset: number | undefined
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0
      return visit.BREAK
    },
  })
  return offset
}
