import { describe, expect, it } from 'vitest'
import { wrongType } from '../../../src/checks/config/keys.js'
import { runOn } from '../../helpers/check-tester.js'

describe('config-wrong-type fixes', () => {
  it('a single-bracket header where the runner reads a list says to use double brackets, with the header', () => {
    const toml = '[[runners]]\n  name = "a"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    [runners.kubernetes.volumes.empty_dir]\n      name = "x"\n      mount_path = "/x"\n'
    const [f] = runOn(wrongType, toml).flatMap((r) => r.findings)
    expect(f!.fix).toEqual({ text: expect.stringMatching(/^Use double brackets: each \[\[runners\.kubernetes\.volumes\.empty_dir\]\] header starts one entry/), toml: '[[runners.kubernetes.volumes.empty_dir]]' })
    expect(f!.at).toMatchObject({ line: 5, column: 5 })
  })

  it('[runners.kubernetes] with no [[runners]] above it points at [[runners]]', () => {
    const [f] = runOn(wrongType, '[runners.kubernetes]\n  namespace = "ci"\n').flatMap((r) => r.findings)
    expect(f!.message).toBe('runners must be an array of tables ([[...]]), but it is a table')
    expect(f!.fix!.toml).toBe('[[runners]]')
  })

  it('a value of the wrong type keeps the general advice', () => {
    const [f] = runOn(wrongType, '[[runners]]\n  executor = "kubernetes"\n  [runners.kubernetes]\n    poll_timeout = "600"\n').flatMap((r) => r.findings)
    expect(f!.fix!.text).toMatch(/^Write the value with the type shown/)
    expect(f!.fix!.toml).toBeUndefined()
  })
})
