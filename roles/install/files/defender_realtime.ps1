# avshift.remediation.install: turns Defender Antivirus's real-time protection on, and
# reports a change only when it was off. Check mode (-WhatIf) only reports.
[CmdletBinding(SupportsShouldProcess)]
param()
$ErrorActionPreference = 'Stop'

if ((Get-MpPreference).DisableRealtimeMonitoring) {
    if ($PSCmdlet.ShouldProcess('Microsoft Defender Antivirus', 'Turn real-time protection on')) {
        Set-MpPreference -DisableRealtimeMonitoring $false
    }
    $Ansible.Changed = $true
}
else {
    $Ansible.Changed = $false
}
