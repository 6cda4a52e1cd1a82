# avshift.remediation.uninstall: the end of a failed uninstall's verbose msiexec log,
# with the value of every property named in -Masked replaced, on the host, before any
# of it leaves. A verbose log records property values on the command line and in its
# property dump ("Property(S): NAME = value"); the controller masks the result again
# with the passwords themselves. Read only: it changes nothing.
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$Path,
    [string[]]$Masked = @(),
    [int]$Lines = 40
)
$ErrorActionPreference = 'Stop'

$Ansible.Changed = $false
if (-not (Test-Path -LiteralPath $Path)) {
    $Ansible.Result = @{ tail = @(); error = "no msiexec log at $Path" }
    return
}
# msiexec writes its logs in UTF-16LE ("Unicode"), which Get-Content detects by the BOM.
$tail = @(Get-Content -LiteralPath $Path -Tail $Lines)
foreach ($name in $Masked) {
    $pattern = '(?i)(\b' + [regex]::Escape($name) + '\s*=\s*)("[^"]*"|\S+)'
    $tail = @($tail | ForEach-Object { $_ -replace $pattern, '$1********' })
}
$Ansible.Result = @{ tail = $tail; error = $null }
