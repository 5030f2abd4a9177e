/**
 * The commands the build and helper containers start with, per runner shell (the shell's DockerCommand in
 * the runner's shells package), and the Windows init-permissions command.
 */

/** The shell the build and helper containers start under bash/sh: the first of the usual shells that exists. */
export const SHELL_DETECT = 'for s in /usr/local/bin/bash /usr/bin/bash /bin/bash /usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh; do if [ -x "$s" ]; then exec "$s"; fi; done; echo shell not found; exit 1'

export type PowerShell = 'pwsh' | 'powershell'

export const isPowerShell = (shell: string): shell is PowerShell => shell === 'pwsh' || shell === 'powershell'

const POWERSHELL_FLAGS = ['-NoProfile', '-NoLogo', '-InputFormat', 'text', '-OutputFormat', 'text', '-NonInteractive', '-ExecutionPolicy', 'Bypass']

/**
 * pwsh reads the job script from stdin after an initialisation script that switches stdin and stdout to
 * UTF-8; that script travels base64-encoded as UTF-16LE (-EncodedCommand). Windows PowerShell reads stdin
 * with `-Command -`.
 */
export function powershellCommand(shell: PowerShell): string[] {
  if (shell === 'powershell') return [shell, ...POWERSHELL_FLAGS, '-Command', '-']
  const init = [
    '$OutputEncoding = [console]::InputEncoding = [console]::OutputEncoding = New-Object System.Text.UTF8Encoding',
    `${shell} -NoProfile -NonInteractive -Command -`,
    'if(!$?) { Exit &{if($LASTEXITCODE) {$LASTEXITCODE} else {1}} }',
  ].join('\r\n')
  return [shell, ...POWERSHELL_FLAGS, '-EncodedCommand', Buffer.from(init, 'utf16le').toString('base64')]
}

/** The command of the build and helper containers; dumb-init wraps it except under Windows PowerShell. */
export function containerCommand(shell: string, dumbInit: { scriptsDir: string } | undefined): string[] {
  const base = isPowerShell(shell) ? powershellCommand(shell) : ['sh', '-c', SHELL_DETECT]
  return dumbInit && shell !== 'powershell' ? [`${dumbInit.scriptsDir}/dumb-init`, '--', ...base] : base
}

/** Go's %q of a plain path: a double-quoted string with backslashes and quotes escaped. */
const goQuote = (s: string): string => JSON.stringify(s)

/**
 * Windows init-permissions: give Everyone full control, inherited by new files and folders, on the logs
 * folder and the builds folder, so build and helper containers (different SIDs) can share them.
 */
export function windowsPermissionsCommand(shell: PowerShell, logsDir: string, buildsDir: string): string[] {
  const grant = (dir: string): string => `icacls $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath(${goQuote(dir)}) /grant 'Everyone:(OI)(CI)F' /q | out-null`
  return [shell, '-c', [grant(logsDir), grant(buildsDir)].join(';\n')]
}
