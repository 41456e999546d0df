# Builds the Windows one-folder program and its Inno Setup installer.
#
#   powershell -ExecutionPolicy Bypass -File installer\build.ps1 [-Variant cpu|cuda] [-Model FILE] [-Out DIR]
#   -Model FILE ships FILE as the starter model instead of the bundled resources\models one.
#
# Step for step the same as installer/build.sh. Needs Python 3.11 (py launcher) and Inno Setup 6 (iscc on PATH).
param([ValidateSet("cpu", "cuda")][string]$Variant = "cuda", [string]$Model = "", [string]$Out = "")
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..")
if (-not $Out) { $Out = Join-Path $Root "dist" }
$start = Get-Date

# 1. A build environment of its own.
$venv = Join-Path $Root "build\venv-$Variant"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv }
if ($Variant -eq "cpu") {
    & "$venv\Scripts\pip.exe" install -q torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu
} else {
    & "$venv\Scripts\pip.exe" install -q torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cu130
}
& "$venv\Scripts\pip.exe" install -q "$Root[installer]"

# 2. The starter model: the bundled one (resources\models), or -Model FILE (read by the spec).
if ($Model) { $env:MANDIBLE_STARTER_MODEL = (Resolve-Path $Model).Path }
elseif (-not (Test-Path "$Root\resources\models\*.msmodel")) {
    throw "no starter model in resources\models; restore it from git or give -Model FILE"
}

# 3. PyInstaller one-folder build.
& "$venv\Scripts\pyinstaller.exe" --noconfirm --clean --log-level WARN `
    --distpath $Out --workpath "$Root\build\pyinstaller-$Variant" "$Root\installer\mandible_studio.spec"
$app = Join-Path $Out "MandibleStudio"

# 4. Start-menu entry and icon come from the Inno Setup script.
# 5. Check the build from another folder, without the venv.
Push-Location $env:TEMP
& "$app\MandibleStudio.exe" --smoke-test | Out-Host
if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
Pop-Location

# 6. Installer.
iscc /DAppDir="$app" /DVariant=$Variant /O"$Out" "$Root\installer\windows\mandible_studio.iss"
$secs = [int]((Get-Date) - $start).TotalSeconds
Write-Host "built $app and the installer in $Out in $secs s"
