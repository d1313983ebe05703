# Install Inkhue for this user (Windows): finds a Python >= 3.10 and runs installer\install.py,
# which does the work with the standard library only. All options are install.py's, e.g.
#   powershell -ExecutionPolicy Bypass -File installer\install.ps1 [--remote URL --token T] [--check] [--uninstall]
# $env:PYTHON = "C:\path\to\python.exe" picks the interpreter the engine's environment is built from.
$ErrorActionPreference = "Stop"
$installer = Join-Path $PSScriptRoot "install.py"
$versionCheck = "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)"

function Test-Python([string[]]$cmd) {
    try {
        $exe = $cmd[0]
        $rest = @($cmd | Select-Object -Skip 1)
        & $exe @rest -c $versionCheck 2>$null | Out-Null
        return ($LASTEXITCODE -eq 0)
    } catch {
        return $false
    }
}

$python = $null
if ($env:PYTHON) {
    if (-not (Test-Python @($env:PYTHON))) {
        Write-Error "inkhue-install: PYTHON=$($env:PYTHON) is not a Python 3.10 or newer"
        exit 1
    }
    $python = @($env:PYTHON)
} else {
    # the py launcher knows every installed Python; python.exe may be the Store's stub
    foreach ($line in @("py -3", "python", "python3")) {
        $cand = @($line -split " ")
        if ((Get-Command $cand[0] -ErrorAction SilentlyContinue) -and (Test-Python $cand)) {
            $python = $cand
            break
        }
    }
}
if (-not $python) {
    Write-Host "inkhue-install: Inkhue needs Python 3.10 or newer, and none was found." -ForegroundColor Red
    Write-Host "  Install it from https://www.python.org/downloads/ (tick 'Add python.exe to PATH'),"
    Write-Host "  or: winget install Python.Python.3.12   then run this again."
    exit 1
}
Remove-Item Env:PYTHONPATH -ErrorAction SilentlyContinue
Remove-Item Env:PYTHONHOME -ErrorAction SilentlyContinue
$exe = $python[0]
$rest = @($python | Select-Object -Skip 1)
& $exe @rest $installer @args
exit $LASTEXITCODE
