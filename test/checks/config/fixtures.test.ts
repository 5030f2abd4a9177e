import { describe, expect, it } from 'vitest'
import { configChecks } from '../../../src/checks/config/index.js'
import { checkFixtures } from '../../helpers/check-tester.js'

describe.each(configChecks.map((c) => [c.id, c] as const))('%s', (_id, check) => {
  it('passes its pass fixtures and fails each fail fixture as pinned', () => {
    const { pass, fail } = checkFixtures(check)
    expect(pass.length, 'at least one pass fixture').toBeGreaterThan(0)
    expect(fail.length, 'at least one fail fixture').toBeGreaterThan(0)
  })
})
