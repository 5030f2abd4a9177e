import process from 'node:process'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { EXIT } from '../cli/exit-codes.js'
import { explain } from '../catalog/explain.js'
import { renderAnswerText, renderMatchesText, resolveLang } from '../catalog/render.js'
import { Secret } from '../util/secret.js'

export default class Explain extends BaseCommand {
  static override summary = 'Explain an error message or a job log with the troubleshooting catalog.'
  static override description = `Finds every catalog entry the text shows, most specific first, with the line that matched, what was extracted (quota figures, user/verb/resource, …), the explanation and the fix. For a refused API call it prints the exact Role rule to add; for a full quota, requested, used and limit side by side.
Each finding carries the lines it rests on, who printed them (the runner, kubectl, helm, the kubelet, the job's own command) and a confidence; when the evidence fits several entries the answer is a differential that names what tells them apart, and lines that only look like an entry are set aside with the reason. --config and --ci-file add what the log cannot say (the executor, the job's service account, the helper flavor, deploy tools, dind).
The text is an error message, a log FILE, - for stdin, or a GitLab job (--job URL of the job page or its API trace URL, token from --token or GITLAB_TOKEN; self-managed instances, relative URLs and private CAs with --ca-file). Logs are streamed, so large traces are fine; ANSI colours and GitLab section markers are ignored.
Exits 0 when something matched, 1 when nothing did, 2 for bad input (a missing or unreadable file, a bad URL or token).`

  static override examples = [
    { description: 'Explain one error message', command: `<%= config.bin %> <%= command.id %> 'pods "runner-x" is forbidden: exceeded quota: ci, requested: pods=1, used: pods=10, limited: pods=10'` },
    { description: 'Explain a saved job log', command: '<%= config.bin %> <%= command.id %> job.log' },
    { description: 'Read from stdin, answer in Japanese', command: 'kubectl logs deploy/gitlab-runner | <%= config.bin %> <%= command.id %> - --lang ja' },
    { description: 'Fetch and explain a job log from a self-managed GitLab', command: 'GITLAB_TOKEN=… <%= config.bin %> <%= command.id %> --job https://gitlab.example.com/group/app/-/jobs/123 --ca-file ca.pem' },
  ]

  static override args = {
    text: Args.string({ description: 'An error message, a log file, or - for stdin.', required: false }),
  }

  static override flags = {
    job: Flags.string({ description: 'URL of a GitLab job whose log to fetch and explain.' }),
    token: Flags.string({ description: 'GitLab access token with read_api scope (default: $GITLAB_TOKEN). Never printed.', dependsOn: ['job'] }),
    'ca-file': Flags.string({ description: 'PEM CA bundle for a GitLab with a private certificate authority.', dependsOn: ['job'] }),
    lang: Flags.string({ description: 'Language of the explanation (default: from LANG/LC_ALL).', options: ['en', 'ja'] }),
    config: Flags.string({ char: 'c', description: "The runner's config.toml (or Helm values): its executor, job service account and helper flavor sharpen the diagnosis." }),
    'ci-file': Flags.string({ description: 'The pipeline\'s .gitlab-ci.yml: whether jobs deploy with kubectl/helm/terraform and use a docker:dind service.' }),
  }

  public async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Explain)
    const tokenText = flags.token ?? process.env.GITLAB_TOKEN
    const lang = resolveLang(flags.lang, process.env)
    const result = await explain({
      lang,
      input: args.text,
      stdin: process.stdin,
      job: flags.job ? { url: flags.job, token: tokenText ? new Secret(tokenText) : undefined, caFile: flags['ca-file'] } : undefined,
      signal: this.signal,
      ...(flags.config ? { config: flags.config } : {}),
      ...(flags['ci-file'] ? { ciFile: flags['ci-file'] } : {}),
      env: process.env,
    })
    if (!result.matched) {
      this.setExit(EXIT.FAILED)
      if (!this.jsonEnabled()) {
        if (result.dismissed.length) this.out.write(renderAnswerText(result.answer, result.dismissed, lang))
        this.log(lang === 'ja'
          ? 'カタログのどのエントリにも一致しませんでした。クラスターと設定を確認するには `gkr doctor` を実行してください。'
          : 'Nothing in the text matches a catalog entry. Run `gkr doctor` to check the runner configuration and the cluster.')
      }
      return { ...result, lang, suggestions: ['Run `gkr doctor` to check the runner configuration and the cluster.'] }
    }
    if (!this.jsonEnabled()) this.out.write(renderAnswerText(result.answer, result.dismissed, lang) + renderMatchesText(result.matches, lang))
    return { ...result, lang }
  }
}
