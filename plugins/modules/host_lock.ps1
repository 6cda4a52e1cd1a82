#!powershell

# Copyright: (c) 2026, avshift maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# The Windows side of avshift.remediation.host_lock (documented in host_lock.py): reads,
# takes and gives back the remediation lock file. The controller decides whether the
# run may take it; this only does it, atomically, and only while the lock is what the
# controller decided on.

$spec = @{
    options = @{
        state = @{ type = 'str'; choices = 'acquire', 'release', 'inspect'; default = 'acquire' }
        path = @{ type = 'str'; required = $true }
        record = @{ type = 'dict' }
        expect_run = @{ type = 'str' }
        run_id = @{ type = 'str' }
        change_id = @{ type = 'str' }
        window = @{ type = 'str' }
        break_lock = @{ type = 'bool'; default = $false }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$module.Result.held = $false

# The state directory is written with environment variables (%ProgramData%).
$path = [Environment]::ExpandEnvironmentVariables($module.Params.path)

Function Read-Lock {
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        return $null
    }
    try {
        [System.IO.File]::ReadAllText($path) | ConvertFrom-Json
    }
    catch {
        # A lock cut short (a power cut while writing it) holds nobody.
        [PSCustomObject]@{ run_id = $null; unreadable = $true }
    }
}

$holder = Read-Lock
$module.Result.holder = $holder
$holderRun = if ($null -ne $holder) { $holder.run_id } else { $null }

if ($module.Params.state -eq 'inspect') {
    $module.ExitJson()
}

if ($module.Params.state -eq 'release') {
    if ($null -ne $holder -and $holderRun -eq $module.Params.run_id) {
        if (-not $module.CheckMode) {
            Remove-Item -LiteralPath $path -Force
        }
        $module.Result.changed = $true
    }
    $module.ExitJson()
}

$record = $module.Params.record
if ($null -ne $holder -and $holderRun -eq $record.run_id) {
    $module.Result.held = $true
    $module.ExitJson()
}
if ($holderRun -ne $module.Params.expect_run) {
    $module.FailJson("the lock changed hands while it was being taken: $($holder | ConvertTo-Json -Compress)")
}
$module.Result.changed = $true
if ($module.CheckMode) {
    $module.ExitJson()
}

$directory = Split-Path -Path $path -Parent
if (-not (Test-Path -LiteralPath $directory)) {
    $null = New-Item -Path $directory -ItemType Directory -Force
}
$json = $record | ConvertTo-Json -Compress -Depth 5
try {
    if ($null -eq $holder) {
        # CreateNew fails when the file exists: two runs cannot both take a free lock.
        $stream = [System.IO.File]::Open($path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write)
    }
    else {
        $stream = [System.IO.File]::Open($path, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write)
    }
    try {
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($json)
        $stream.Write($bytes, 0, $bytes.Length)
        $stream.Flush($true)
    }
    finally {
        $stream.Dispose()
    }
}
catch [System.IO.IOException] {
    $module.FailJson("another run took the lock first: $($_.Exception.Message)", $_)
}
$module.Result.held = $true
$module.ExitJson()
