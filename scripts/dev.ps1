# Windows equivalent of scripts/dev.sh:
#   powershell -ExecutionPolicy Bypass -File scripts\dev.ps1 app [ARGS]
#   powershell -ExecutionPolicy Bypass -File scripts\dev.ps1 test [ARGS]
#   powershell -ExecutionPolicy Bypass -File scripts\dev.ps1 test --fast   (without the tests marked "process")
# Creates or reuses .venv, installs what is missing (only when pyproject.toml changed), then runs.
param([string]$Command = "app", [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$py = ".venv\Scripts\python.exe"
if (-not (Test-Path $py)) { py -3.11 -m venv .venv }
$stamp = ".venv\.mandible-installed"
$want = (Get-FileHash pyproject.toml -Algorithm SHA256).Hash.ToLower()
if (-not (Test-Path $stamp) -or (Get-Content $stamp) -ne $want) {
    & $py -m pip install -q -e ".[test]"
    Set-Content -Path $stamp -Value $want
}
switch ($Command) {
    "app"  { & $py main.py @Rest; exit $LASTEXITCODE }
    "test" {
        $pytestArgs = @($Rest | Where-Object { $_ -ne "--fast" })
        if ($Rest -contains "--fast") { $pytestArgs = @("-m", "not process") + $pytestArgs }
        & $py -m pytest @pytestArgs; exit $LASTEXITCODE
    }
    default { Write-Error "usage: scripts\dev.ps1 app [ARGS] | test [--fast] [ARGS]"; exit 2 }
}
