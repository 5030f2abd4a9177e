import process from 'node:process'
import type { Reporter, TestModule } from 'vitest/node'

/**
 * Ends every run with one plain line, `N passed, N failed, N skipped`, after vitest's own summary:
 * a closing line that CI log readers recognise whatever the test runner.
 */
export default class SummaryLine implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 }
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state
        if (state === 'passed' || state === 'failed' || state === 'skipped') count[state]++
      }
      // A file that failed to load has no tests to count, but it is a failure.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) count.failed++
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`)
  }
}
