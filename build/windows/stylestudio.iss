; Inno Setup 6 script: StyleStudio-Setup-<version>[-<variant>].exe from the PyInstaller bundle.
;
; Compile on Windows after building build\out\dist\StyleStudio (see build\README.md):
;   iscc /DAppVersion=0.1.0 /DVariant=cpu build\windows\stylestudio.iss
; Options (all /D defines):
;   AppVersion  version shown to users and in the file name (required; read from
;               stylestudio/__init__.py by the workflow)
;   NumericVersion  X.Y.Z form of AppVersion for the file properties (default: AppVersion)
;   Variant     "cpu" or "cuda": appended to the file name (omit for a plain name)
;   BundleDir   the one-folder bundle (default: build\out\dist\StyleStudio)
;   OutputDir   where the installer goes (default: build\out\installer)
;   IconFile    installer icon (default: the .ico the spec writes into build\work\stylestudio)
;   Span        define for bundles whose compressed size exceeds 2.1 GB (the CUDA variant):
;               Inno Setup then writes StyleStudio-Setup-...-N.bin slices beside the .exe
;   Sign        define to sign setup and uninstaller with the sign tool named "stylestudio",
;               which the workflow passes as /Sstylestudio=... (signtool command with $f)

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z build\windows\stylestudio.iss
#endif
#ifndef NumericVersion
  #define NumericVersion AppVersion
#endif
#ifndef BundleDir
  #define BundleDir "..\out\dist\StyleStudio"
#endif
#ifndef IconFile
  #define IconFile "..\work\stylestudio\stylestudio.ico"
#endif
#ifndef OutputDir
  #define OutputDir "..\out\installer"
#endif
#ifdef Variant
  #define OutputName "StyleStudio-Setup-" + AppVersion + "-" + Variant
#else
  #define OutputName "StyleStudio-Setup-" + AppVersion
#endif

#define AppName "StyleStudio"
#define AppExe "StyleStudio.exe"
#define ProgId "StyleStudio.StylePack"

[Setup]
; Never change AppId: it ties upgrades and the uninstaller to earlier installs.
AppId={{6B1E2F0A-3C55-4E8B-9C1D-5A7F2E4B8D31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=StyleStudio developers
AppPublisherURL=https://github.com/stylestudio/stylestudio
VersionInfoVersion={#NumericVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install by default (no admin needed); the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename={#OutputName}
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes
#ifdef Span
DiskSpanning=yes
DiskSliceSize=max
#endif
#ifdef Sign
SignTool=stylestudio
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associate"; Description: "Open .stylepack files with {#AppName}"; GroupDescription: "File associations:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not keep libraries from an older torch next to the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; HKA = HKLM for all-users installs, HKCU for per-user installs.
Root: HKA; Subkey: "Software\Classes\.stylepack"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.stylepack\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "StyleStudio Style Pack"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".stylepack"; ValueData: ""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".bmp"; ValueData: ""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; User data (styles, settings, logs, caches under %LOCALAPPDATA%\StyleStudio) is deliberately kept
; on uninstall: it holds the user's own trained styles.
