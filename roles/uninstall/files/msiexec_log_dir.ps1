# avshift.remediation.uninstall: where msiexec is and where its logs go, read on the
# host and not guessed: msiexec by its full path under %SystemRoot% (as ansible.windows
# win_package calls it), and a log directory under %ProgramData% that only
# Administrators and SYSTEM can read. A verbose MSI log records public property values,
# an uninstall password included unless the package lists it in MsiHiddenProperties
# ("MsiHiddenProperties property", Microsoft Learn), so nobody else may read it.
# msiexec does not create the directory of its /L log ("Command-Line Options").
[CmdletBinding(SupportsShouldProcess)]
param()
$ErrorActionPreference = 'Stop'

$logDir = Join-Path -Path $env:ProgramData -ChildPath 'avshift\msiexec-logs'
$Ansible.Changed = $false
if (-not (Test-Path -LiteralPath $logDir) -and $PSCmdlet.ShouldProcess($logDir, 'create')) {
    $null = New-Item -Path $logDir -ItemType Directory -Force
    $Ansible.Changed = $true
}
if (Test-Path -LiteralPath $logDir) {
    # Inheritance off, then full control for Administrators and SYSTEM only, by SID
    # (names are localised): S-1-5-32-544 Administrators, S-1-5-18 LocalSystem.
    $acl = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in 'S-1-5-32-544', 'S-1-5-18') {
        $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
        $acl.AddAccessRule($rule)
    }
    if ($PSCmdlet.ShouldProcess($logDir, 'restrict to Administrators and SYSTEM')) {
        Set-Acl -LiteralPath $logDir -AclObject $acl
    }
}
$Ansible.Result = @{
    msiexec = Join-Path -Path $env:SystemRoot -ChildPath 'System32\msiexec.exe'
    log_dir = $logDir
}
