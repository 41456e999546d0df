; Inno Setup script for Mandible Studio (called by installer\build.ps1 with /DAppDir and /DVariant).
#define AppName "Mandible Studio"
#define AppVersion "0.1.0"

[Setup]
AppId={{6B0E7C1A-4F0D-4C5E-9A55-2B7E3F3C0D11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Mandible Studio
DefaultDirName={autopf}\Mandible Studio
DefaultGroupName=Mandible Studio
OutputBaseFilename=MandibleStudio-{#AppVersion}-{#Variant}-setup
SetupIconFile=..\..\resources\branding\mandible-studio.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
WizardStyle=modern

[Files]
Source: "{#AppDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\Mandible Studio"; Filename: "{app}\MandibleStudio.exe"
Name: "{autodesktop}\Mandible Studio"; Filename: "{app}\MandibleStudio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\MandibleStudio.exe"; Description: "Start Mandible Studio"; Flags: nowait postinstall skipifsilent
