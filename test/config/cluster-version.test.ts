import { describe, expect, it } from 'vitest'
import { runnerImageVersion, withClusterVersion } from '../../src/config/version.js'

const POD = { namespace: 'gitlab-runner', name: 'gitlab-runner-6b8f9c7d54-q2x7m' }

describe('the runner version from the manager pod image', () => {
  it('takes the runner image (not the helper, not a sidecar) and its tag', () => {
    expect(runnerImageVersion(['docker.io/library/nginx:1.27', 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.9.0', 'registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0'])).toEqual({ image: 'registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0', version: '17.9' })
    expect(runnerImageVersion(['gitlab/gitlab-runner:v16.11.1'])).toEqual({ image: 'gitlab/gitlab-runner:v16.11.1', version: '16.11' })
    expect(runnerImageVersion(['gitlab/gitlab-runner:latest', 'gitlab/gitlab-runner'])).toBeUndefined()
  })

  it('is used only when the configuration names no version, and the note says which source gave it', () => {
    const pod = { ...POD, images: ['registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0'] }
    expect(withClusterVersion(undefined, pod)).toEqual({
      version: { version: '17.9', from: 'the manager pod gitlab-runner/gitlab-runner-6b8f9c7d54-q2x7m, image registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0' },
      note: 'checked against runner 17.9 (from the manager pod gitlab-runner/gitlab-runner-6b8f9c7d54-q2x7m, image registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0): the configuration names no runner version',
    })
    const configured = { version: '17.3', from: 'image.tag "alpine-v17.3.0"' }
    expect(withClusterVersion(configured, pod)).toEqual({
      version: configured,
      note: 'the cluster runs runner 17.9 (the manager pod gitlab-runner/gitlab-runner-6b8f9c7d54-q2x7m, image registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v17.9.0), but the configuration targets 17.3 (from image.tag "alpine-v17.3.0"): checked against 17.3',
    })
    expect(withClusterVersion({ version: '17.9', from: '--runner-version' }, pod)).toEqual({ version: { version: '17.9', from: '--runner-version' } })
    expect(withClusterVersion(undefined, { ...POD, images: ['busybox:1'] })).toEqual({})
  })
})
