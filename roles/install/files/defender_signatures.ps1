# avshift.remediation.install: asks Microsoft Defender Antivirus for the latest security
# intelligence (Update-MpSignature) once it runs: enabling Defender does not update its
# signatures, and Windows Server installs no updates by itself ("Microsoft Defender
# Antivirus on Windows Server"). A host that cannot reach an update source keeps the
# signatures it has: the failure is reported, the protection scan judges their age.
[CmdletBinding(SupportsShouldProcess)]
param()
$ErrorActionPreference = 'Stop'

$before = (Get-MpComputerStatus).AntivirusSignatureVersion
$Ansible.Result = @{ updated = $false; error = $null; version = $before }
if (-not $PSCmdlet.ShouldProcess('Microsoft Defender Antivirus', 'Update-MpSignature')) {
    $Ansible.Changed = $false
    return
}
try {
    Update-MpSignature
}
catch {
    $Ansible.Result.error = $_.Exception.Message
}
$after = (Get-MpComputerStatus).AntivirusSignatureVersion
$Ansible.Result.version = $after
$Ansible.Result.updated = ($after -ne $before)
$Ansible.Changed = $Ansible.Result.updated
