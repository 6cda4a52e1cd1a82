#!powershell

# Copyright: (c) 2026, avshift maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# The Windows collector of avshift.remediation.av_scan (documented in av_scan.py). It
# reads what is installed, registered and running and returns it as the raw inventory;
# it decides nothing, the controller's engine classifies. It only reads, so check mode
# runs it unchanged.
#
# Each part is read on its own: a part that fails becomes a warning, is left null in the
# inventory (null means "could not be read", an empty list means "none found") and is
# named in inventory.unreadable with the reason, so the engine can tell a clean host
# from a blind scan. The fields are those of the inventory schema
# (plugins/module_utils/inventory_schema.py); tests/windows holds this file to it.

$spec = @{
    options = @{
        paths = @{
            type = 'list'
            elements = 'str'
            default = @()
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false

$uninstallSubKey = 'Microsoft\Windows\CurrentVersion\Uninstall'
$productCodePattern = '^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$'

$inventory = [Ordered]@{
    schema = 1
    host = $env:COMPUTERNAME
    os_family = 'windows'
    # The host's own clock: the controller measures Defender's signature age against it
    # (AntivirusSignatureLastUpdated is a time of this clock too) and reports the skew.
    collected_at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'",
        [System.Globalization.CultureInfo]::InvariantCulture)
    os = $null
    packages = $null
    services = $null
    processes = $null
    drivers = $null
    paths = $null
    security_center = $null
    defender = $null
    unreadable = [System.Collections.Generic.List[Object]]::new()
}
# Parts that read the host itself; if none of them could be read the scan failed.
$hostPartsRead = 0
$partFailures = [System.Collections.Generic.List[String]]::new()

Function Get-TrimmedString {
    param (
        [AllowNull()]
        [Object]
        $Value
    )

    if ($null -eq $Value) {
        return $null
    }
    $text = ([String]$Value).Trim()
    if ($text.Length -eq 0) {
        return $null
    }
    $text
}

Function Add-PartFailure {
    param (
        [Parameter(Mandatory)]
        [String]
        $Part,

        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [String]
        $Reason
    )

    $message = "${Part}: $Reason"
    $inventory.unreadable.Add([Ordered]@{ part = $Part; reason = $Reason })
    $partFailures.Add($message)
    $module.Warn("av_scan could not read $message")
}

Function ConvertTo-ServiceState {
    param (
        [AllowNull()]
        [Object]
        $State
    )

    switch ("$State") {
        'Running' { 'running' }
        'Stopped' { 'stopped' }
        default { 'unknown' }
    }
}

Function ConvertTo-StartMode {
    # Win32_Service says Auto, Get-Service says Automatic: report one spelling.
    param (
        [AllowNull()]
        [Object]
        $StartMode
    )

    $mode = Get-TrimmedString $StartMode
    if ($null -eq $mode) {
        return $null
    }
    if ($mode -eq 'Automatic') {
        return 'auto'
    }
    $mode.ToLowerInvariant()
}

Function Get-UninstallEntry {
    <#
    .SYNOPSIS
    Emits one package per entry of an Uninstall key that has a DisplayName.
    SystemComponent=1 hides an entry from Programs and Features but is kept here:
    security products set it on some of their components.
    #>
    param (
        [Parameter(Mandatory)]
        [Microsoft.Win32.RegistryKey]
        $BaseKey,

        [Parameter(Mandatory)]
        [String]
        $SubKeyPath,

        [Parameter(Mandatory)]
        [String]
        $RootName
    )

    $uninstallKey = $BaseKey.OpenSubKey($SubKeyPath)
    if ($null -eq $uninstallKey) {
        # The view does not exist here: a 32-bit Windows has no WOW6432Node.
        return
    }
    try {
        foreach ($entryName in $uninstallKey.GetSubKeyNames()) {
            try {
                $entryKey = $uninstallKey.OpenSubKey($entryName)
            }
            catch {
                $module.Warn("av_scan could not open $RootName\$SubKeyPath\${entryName}: $($_.Exception.Message)")
                continue
            }
            if ($null -eq $entryKey) {
                continue
            }
            try {
                $displayName = Get-TrimmedString $entryKey.GetValue('DisplayName')
                if ($null -eq $displayName) {
                    continue
                }
                $productCode = $null
                if ($entryName -match $productCodePattern) {
                    $productCode = $entryName
                }
                # A DWORD as a rule; "$value" also reads the odd REG_SZ "1".
                $systemComponent = $entryKey.GetValue('SystemComponent')
                [Ordered]@{
                    name = $displayName
                    version = Get-TrimmedString $entryKey.GetValue('DisplayVersion')
                    publisher = Get-TrimmedString $entryKey.GetValue('Publisher')
                    source = 'uninstall-registry'
                    product_code = $productCode
                    uninstall_string = Get-TrimmedString $entryKey.GetValue('UninstallString')
                    quiet_uninstall_string = Get-TrimmedString $entryKey.GetValue('QuietUninstallString')
                    install_location = Get-TrimmedString $entryKey.GetValue('InstallLocation')
                    system_component = ("$systemComponent" -eq '1')
                    registry_key = "$RootName\$SubKeyPath\$entryName"
                }
            }
            finally {
                $entryKey.Dispose()
            }
        }
    }
    finally {
        $uninstallKey.Dispose()
    }
}

# -- os -----------------------------------------------------------------------------
try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -Property Caption, Version, ProductType -ErrorAction Stop
    # ProductType 1 is a workstation; 2 (domain controller) and 3 are servers.
    $server = $null
    if ($null -ne $os.ProductType) {
        $server = ($os.ProductType -ne 1)
    }
    $inventory.os = [Ordered]@{
        name = Get-TrimmedString $os.Caption
        version = Get-TrimmedString $os.Version
        server = $server
    }
    $hostPartsRead++
}
catch {
    Add-PartFailure -Part 'os' -Reason $_.Exception.Message
}

# -- packages: the Uninstall keys (never Win32_Product: slow, and it makes MSI run a
# consistency check that can repair or reconfigure products) --------------------------
try {
    $packages = [System.Collections.Generic.List[Object]]::new()
    $machineHive = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine,
        [Microsoft.Win32.RegistryView]::Registry64)
    try {
        foreach ($subKey in @("SOFTWARE\$uninstallSubKey", "SOFTWARE\WOW6432Node\$uninstallSubKey")) {
            Get-UninstallEntry -BaseKey $machineHive -SubKeyPath $subKey -RootName 'HKLM' |
                ForEach-Object -Process { $packages.Add($_) }
        }
    }
    finally {
        $machineHive.Dispose()
    }
    $inventory.packages = $packages
    $hostPartsRead++
}
catch {
    Add-PartFailure -Part 'packages' -Reason $_.Exception.Message
}

# Per-user installs, from the hives that are loaded (users logged on, service accounts).
if ($null -ne $inventory.packages) {
    try {
        $usersHive = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
            [Microsoft.Win32.RegistryHive]::Users,
            [Microsoft.Win32.RegistryView]::Registry64)
        try {
            foreach ($sid in $usersHive.GetSubKeyNames()) {
                # .DEFAULT is LocalSystem's hive again; *_Classes hold no Uninstall key.
                if ($sid -eq '.DEFAULT' -or $sid.EndsWith('_Classes')) {
                    continue
                }
                try {
                    Get-UninstallEntry -BaseKey $usersHive -SubKeyPath "$sid\Software\$uninstallSubKey" -RootName 'HKU' |
                        ForEach-Object -Process { $inventory.packages.Add($_) }
                }
                catch {
                    $module.Warn("av_scan could not read the uninstall entries of HKU\${sid}: $($_.Exception.Message)")
                }
            }
        }
        finally {
            $usersHive.Dispose()
        }
    }
    catch {
        Add-PartFailure -Part 'user_packages' -Reason $_.Exception.Message
    }
}

# -- services -------------------------------------------------------------------------
try {
    $services = [System.Collections.Generic.List[Object]]::new()
    $serviceProperties = 'Name', 'DisplayName', 'State', 'StartMode', 'PathName'
    foreach ($service in (Get-CimInstance -ClassName Win32_Service -Property $serviceProperties -ErrorAction Stop)) {
        $services.Add([Ordered]@{
                name = $service.Name
                display_name = Get-TrimmedString $service.DisplayName
                state = ConvertTo-ServiceState $service.State
                start_mode = ConvertTo-StartMode $service.StartMode
                path = Get-TrimmedString $service.PathName
            })
    }
    $inventory.services = $services
    $hostPartsRead++
}
catch {
    # A broken WMI repository is common enough: the service manager still answers.
    $cimMessage = $_.Exception.Message
    try {
        $services = [System.Collections.Generic.List[Object]]::new()
        foreach ($service in (Get-Service -ErrorAction Stop)) {
            $services.Add([Ordered]@{
                    name = $service.Name
                    display_name = Get-TrimmedString $service.DisplayName
                    state = ConvertTo-ServiceState $service.Status
                    start_mode = ConvertTo-StartMode $service.StartType
                    path = $null
                })
        }
        $inventory.services = $services
        $hostPartsRead++
        $module.Warn("av_scan could not query Win32_Service ($cimMessage); services were listed by Get-Service, without paths")
    }
    catch {
        Add-PartFailure -Part 'services' -Reason "Win32_Service: $cimMessage; Get-Service: $($_.Exception.Message)"
    }
}

# -- drivers --------------------------------------------------------------------------
try {
    $drivers = [System.Collections.Generic.List[Object]]::new()
    $driverProperties = 'Name', 'DisplayName', 'State', 'PathName'
    foreach ($driver in (Get-CimInstance -ClassName Win32_SystemDriver -Property $driverProperties -ErrorAction Stop)) {
        $drivers.Add([Ordered]@{
                name = $driver.Name
                display_name = Get-TrimmedString $driver.DisplayName
                state = ConvertTo-ServiceState $driver.State
                path = Get-TrimmedString $driver.PathName
            })
    }
    $inventory.drivers = $drivers
    $hostPartsRead++
}
catch {
    Add-PartFailure -Part 'drivers' -Reason $_.Exception.Message
}

# -- processes: one entry per distinct name and path ----------------------------------
try {
    $processes = [System.Collections.Generic.List[Object]]::new()
    $seen = [System.Collections.Generic.HashSet[String]]::new()
    foreach ($process in (Get-CimInstance -ClassName Win32_Process -Property Name, ExecutablePath -ErrorAction Stop)) {
        # ExecutablePath is empty for protected processes (avp.exe is one) unless the
        # reader may open them; the name is still there.
        $processPath = Get-TrimmedString $process.ExecutablePath
        if ($seen.Add("$($process.Name)|$processPath")) {
            $processes.Add([Ordered]@{
                    name = $process.Name
                    path = $processPath
                })
        }
    }
    $inventory.processes = $processes
    $hostPartsRead++
}
catch {
    Add-PartFailure -Part 'processes' -Reason $_.Exception.Message
}

# -- security_center: root/SecurityCenter2 exists on client editions only --------------
try {
    $securityCenter = [System.Collections.Generic.List[Object]]::new()
    $namespace = Get-CimInstance -Namespace root -ClassName __NAMESPACE -Filter "Name = 'SecurityCenter2'" -ErrorAction Stop
    if ($namespace) {
        foreach ($product in (Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction Stop)) {
            $securityCenter.Add([Ordered]@{
                    display_name = Get-TrimmedString $product.displayName
                    product_state = $product.productState
                    path = Get-TrimmedString $product.pathToSignedProductExe
                })
        }
    }
    $inventory.security_center = $securityCenter
}
catch {
    Add-PartFailure -Part 'security_center' -Reason $_.Exception.Message
}

# -- defender: Get-MpComputerStatus, where the Defender module exists -------------------
if (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue) {
    $defender = [Ordered]@{
        am_service_enabled = $null
        antivirus_enabled = $null
        real_time_protection_enabled = $null
        antivirus_signature_last_updated = $null
        am_running_mode = $null
        disabled_by_policy = @()
        error = $null
    }
    # Group Policy (or MDM) values that turn Defender off, as "Policy CSP -
    # ADMX_MicrosoftDefenderAntivirus" maps them; the classifier knows where each applies
    # (plugin_utils/defender.py: DisableAntiSpyware only on servers).
    $policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender'
    $defender.disabled_by_policy = @(
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
    try {
        $status = Get-MpComputerStatus -ErrorAction Stop
        $defender.am_service_enabled = $status.AMServiceEnabled
        $defender.antivirus_enabled = $status.AntivirusEnabled
        $defender.real_time_protection_enabled = $status.RealTimeProtectionEnabled
        if ($null -ne $status.AntivirusSignatureLastUpdated) {
            $defender.antivirus_signature_last_updated = $status.AntivirusSignatureLastUpdated.ToUniversalTime().ToString(
                "yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
        }
        # Older Defender platforms lack AMRunningMode (Normal, Passive, EDR Block Mode).
        $runningMode = $status.PSObject.Properties['AMRunningMode']
        if ($null -ne $runningMode) {
            $defender.am_running_mode = Get-TrimmedString $runningMode.Value
        }
    }
    catch {
        # With another antivirus registered, WinDefend is stopped and this fails by
        # design: that is a finding, not a collector failure.
        $defender.error = $_.Exception.Message
        $winDefend = @($inventory.services | Where-Object { $_.name -eq 'WinDefend' })
        if ($winDefend.Count -gt 0 -and $winDefend[0].state -eq 'running') {
            $module.Warn("av_scan could not read the Defender status: $($_.Exception.Message)")
        }
    }
    $inventory.defender = $defender
}

# -- paths: which of the catalogue's paths exist --------------------------------------
$foundPaths = [System.Collections.Generic.List[String]]::new()
foreach ($path in $module.Params.paths) {
    try {
        if (Test-Path -LiteralPath ([Environment]::ExpandEnvironmentVariables($path))) {
            # Return the catalogue's own spelling so the engine can match it back.
            $foundPaths.Add($path)
        }
    }
    catch {
        $module.Warn("av_scan could not test the path '$path': $($_.Exception.Message)")
    }
}
$inventory.paths = $foundPaths

if ($hostPartsRead -eq 0) {
    $module.FailJson("av_scan could not read anything on this host: $($partFailures -join '; ')")
}

$module.Result.inventory = $inventory
$module.ExitJson()
