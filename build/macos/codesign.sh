#!/usr/bin/env bash
# Sign StyleStudio.app with a Developer ID (hardened runtime), inside out.
#   build/macos/codesign.sh build/out/dist/StyleStudio.app
# Secrets (environment; the step is skipped cleanly when they are absent):
#   MACOS_CERTIFICATE           base64 of the Developer ID Application .p12
#   MACOS_CERTIFICATE_PASSWORD  its password
#   MACOS_SIGN_IDENTITY         e.g. "Developer ID Application: Name (TEAMID)"
set -euo pipefail
APP="${1:?usage: codesign.sh path/to/StyleStudio.app}"
HERE="$(cd "$(dirname "$0")" && pwd)"

if [ -z "${MACOS_CERTIFICATE:-}" ] || [ -z "${MACOS_CERTIFICATE_PASSWORD:-}" ] \
   || [ -z "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "codesign: MACOS_CERTIFICATE/MACOS_CERTIFICATE_PASSWORD/MACOS_SIGN_IDENTITY not set; skipping signing."
  exit 0
fi

# A throw-away keychain holding only the signing certificate.
KEYCHAIN="${RUNNER_TEMP:-/tmp}/stylestudio-signing.keychain-db"
KEYCHAIN_PASSWORD="$(uuidgen)"
CERT_FILE="${RUNNER_TEMP:-/tmp}/stylestudio-cert.p12"
trap 'rm -f "$CERT_FILE"' EXIT
echo "$MACOS_CERTIFICATE" | base64 --decode > "$CERT_FILE"
security create-keychain -p "$KEYCHAIN_PASSWORD" "$KEYCHAIN"
security set-keychain-settings -lut 21600 "$KEYCHAIN"
security unlock-keychain -p "$KEYCHAIN_PASSWORD" "$KEYCHAIN"
security import "$CERT_FILE" -k "$KEYCHAIN" -P "$MACOS_CERTIFICATE_PASSWORD" -T /usr/bin/codesign
security set-key-partition-list -S apple-tool:,apple:,codesign: -s -k "$KEYCHAIN_PASSWORD" "$KEYCHAIN"
security list-keychains -d user -s "$KEYCHAIN" $(security list-keychains -d user | tr -d '"')

sign() {
  codesign --force --timestamp --options runtime --keychain "$KEYCHAIN" \
    --entitlements "$HERE/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$1"
}

# 1. Every Mach-O file (libraries, extension modules, helper executables). Each file carries its
#    own signature, so their order does not matter; bundles come after their contents.
count=0
while IFS= read -r -d '' file; do
  if file -b "$file" | grep -q "Mach-O"; then
    sign "$file"
    count=$((count + 1))
  fi
done < <(find "$APP/Contents" -type f ! -path "*/_CodeSignature/*" -print0)
echo "codesign: signed $count Mach-O files"
# 2. Nested bundles (Qt frameworks), deepest first; 3. the app itself.
while IFS= read -r -d '' bundle; do
  sign "$bundle"
done < <(find "$APP/Contents" -depth -type d \( -name "*.framework" -o -name "*.app" \) -print0)
sign "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"
echo "codesign: $APP signed as $MACOS_SIGN_IDENTITY"
