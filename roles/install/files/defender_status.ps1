# avshift.remediation.install: reads Microsoft Defender Antivirus's state on Windows and
# writes it as one object. Changes nothing.
$ErrorActionPreference = 'Stop'

# ProductType 1 is a workstation; domain controllers (2) and servers (3) have no
# Security Center and get Defender as a Windows feature. BuildNumber 14393 is Server 2016,
# which has its own way back for a disabled Defender (MpCmdRun -wdenable).
$os = Get-CimInstance -ClassName Win32_OperatingSystem -Property ProductType, BuildNumber
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
    # Platforms before 4.18.2008.9 have no AMRunningMode: $null, not an empty string.
    $runningMode = $computerStatus.PSObject.Properties['AMRunningMode']
    $status = @{
        am_service_enabled = [bool]$computerStatus.AMServiceEnabled
        antivirus_enabled = [bool]$computerStatus.AntivirusEnabled
        real_time_protection_enabled = [bool]$computerStatus.RealTimeProtectionEnabled
        am_running_mode = if ($null -ne $runningMode) { [string]$runningMode.Value } else { $null }
        am_product_version = [string]$computerStatus.AMProductVersion
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

# Group Policy (or MDM) values that turn Defender off, as "Policy CSP -
# ADMX_MicrosoftDefenderAntivirus" maps them: the role reports them, never overrides them.
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender'
$disabledByPolicy = @(
    foreach ($policy in @(
            @{ key = $policyKey; value = 'DisableAntiSpyware' },
            @{ key = $policyKey; value = 'DisableAntiVirus' },
            @{ key = "$policyKey\Real-Time Protection"; value = 'DisableRealtimeMonitoring' })) {
        $set = Get-ItemProperty -LiteralPath $policy.key -Name $policy.value -ErrorAction SilentlyContinue
        if ($null -ne $set -and $set.($policy.value) -eq 1) {
            "$($policy.key)\$($policy.value)"
        }
    }
)

$onboarding = Get-ItemProperty -ErrorAction SilentlyContinue -Name OnboardingState `
    -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'

[PSCustomObject]@{
    server = $server
    build = [int]$os.BuildNumber
    feature = $feature
    service = $serviceState
    status = $status
    status_error = $statusError
    other_antivirus = $otherAntivirus
    disabled_by_policy = $disabledByPolicy
    mde_onboarded = ($null -ne $onboarding -and $onboarding.OnboardingState -eq 1)
}
