import { describe, expect, it } from 'vitest'
import { parseConfigText } from '../../src/config/load.js'
import { thrown } from '../helpers/thrown.js'

const tail = 'runners:\n  config: |\n    [[runners]]\n    executor = "kubernetes"\n'

describe('Helm values with odd aliases', () => {
  it('an alias inside its own anchor is a usage error at file:line:column (it used to load a circular value)', () => {
    const err = thrown(() => parseConfigText(`a: &x [*x]\n${tail}`, 'values.yaml'))
    expect([err.code, err.exit]).toEqual(['config-syntax', 2])
    expect(err.at).toMatchObject({ file: 'values.yaml', line: 1, column: 8 })
  })

  it('an alias to no anchor, and an alias bomb, name their position', () => {
    expect(thrown(() => parseConfigText(`a: *nope\n${tail}`, 'values.yaml')).at).toMatchObject({ line: 1, column: 4 })
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n'
    const names = 'abcdefgh'
    for (let i = 1; i < names.length; i++) bomb += `${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(', ')}]\n`
    const err = thrown(() => parseConfigText(bomb + tail, 'values.yaml'))
    expect(err.message).toMatch(/billion laughs/)
    expect(err.at?.line).toBeGreaterThan(1)
  })

  it('ordinary aliases resolve in the chart values (gitlabUrl from an anchor), not to { source }', () => {
    const c = parseConfigText(`x: &u https://gitlab.example.com\ngitlabUrl: *u\n${tail}`, 'values.yaml')
    expect(c.runners[0]!.settings.url).toBe('https://gitlab.example.com')
  })
})
