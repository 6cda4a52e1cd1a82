# avshift.remediation.install: reads Microsoft Defender Antivirus's state on Windows and
# writes it as one object. Changes nothing.
$ErrorActionPreference = 'Stop'

# ProductType 1 is a workstation; domain controllers (2) and servers (3) have no
# Security Center and get Defender as a Windows feature.
$os = Get-CimInstance -ClassName Win32_OperatingSystem -Property ProductType
$server = $os.ProductType -ne 1

$feature = $null
if ($server) {
    $found = Get-WindowsFeature -Name Windows-Defender -ErrorAction SilentlyContinue
    $feature = if ($found) { [string]$found.InstallState } else { 'Unknown' }
}

$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='WinDefend'"
$serviceState = @{ exists = $false; start_mode = $null; state = $null }
if ($service) {
    $serviceState = @{
        exists = $true
        start_mode = ([string]$service.StartMode).ToLowerInvariant()
        state = ([string]$service.State).ToLowerInvariant()
    }
}

# Get-MpComputerStatus fails while Defender is off (for example while another
# antivirus is registered): the message is kept for the operator.
$status = $null
$statusError = $null
try {
    $computerStatus = Get-MpComputerStatus
    $status = @{
        am_service_enabled = [bool]$computerStatus.AMServiceEnabled
        antivirus_enabled = [bool]$computerStatus.AntivirusEnabled
        real_time_protection_enabled = [bool]$computerStatus.RealTimeProtectionEnabled
        am_running_mode = [string]$computerStatus.AMRunningMode
    }
}
catch {
    $statusError = $_.Exception.Message
}

$otherAntivirus = @()
if (-not $server) {
    try {
        $otherAntivirus = @(
            Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct |
                Where-Object { $_.displayName -notmatch '^(Windows|Microsoft) Defender' } |
                ForEach-Object { [string]$_.displayName } |
                Sort-Object -Unique
        )
    }
    catch {
        $otherAntivirus = @()
    }
}

$onboarding = Get-ItemProperty -ErrorAction SilentlyContinue -Name OnboardingState `
    -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'

[PSCustomObject]@{
    server = $server
    feature = $feature
    service = $serviceState
    status = $status
    status_error = $statusError
    other_antivirus = $otherAntivirus
    mde_onboarded = ($null -ne $onboarding -and $onboarding.OnboardingState -eq 1)
}
