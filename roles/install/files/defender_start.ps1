# avshift.remediation.install: starts Microsoft Defender Antivirus's service when it is
# stopped, and reports a change only then. Check mode (-WhatIf) only reports.
#
# Only Start-Service: WinDefend's service DACL gives Administrators Start but not
# ChangeConfig or Stop, so ansible.windows.win_service, which opens every service with
# ChangeConfig unless state is absent (win_service.ps1, its $rights block), fails with
# "Access is denied" on it; and Microsoft calls editing WinDefend's start value
# unsupported ("Troubleshoot Microsoft Defender Antivirus while migrating from a
# non-Microsoft solution"). A disabled Defender on Server 2016 comes back with
# "MpCmdRun.exe -wdenable" and a restart ("Enable and update Microsoft Defender
# Antivirus on Windows Server").
[CmdletBinding(SupportsShouldProcess)]
param()
$ErrorActionPreference = 'Stop'

$service = Get-Service -Name WinDefend
$Ansible.Result = @{ restart_required = $false; start_type = [string]$service.StartType }
if ($service.Status -eq 'Running') {
    $Ansible.Changed = $false
    return
}
$Ansible.Changed = $true
if ($service.StartType -eq 'Disabled') {
    $build = [int](Get-CimInstance -ClassName Win32_OperatingSystem -Property BuildNumber).BuildNumber
    if ($build -ne 14393) {
        throw "WinDefend is disabled (start type Disabled), which avshift does not change: re-enable Defender Antivirus by its supported means (Group Policy, Install-WindowsFeature Windows-Defender)"
    }
    if ($PSCmdlet.ShouldProcess('Microsoft Defender Antivirus', 'MpCmdRun -wdenable')) {
        & "$env:ProgramFiles\Windows Defender\MpCmdRun.exe" -wdenable
        if ($LASTEXITCODE -ne 0) {
            throw "MpCmdRun.exe -wdenable exited with $LASTEXITCODE"
        }
    }
    $Ansible.Result.restart_required = $true
    return
}
if ($PSCmdlet.ShouldProcess('WinDefend', 'Start-Service')) {
    Start-Service -Name WinDefend
}
