#!/usr/bin/env bash
# Sign the disk image, submit it to Apple's notary service and staple the ticket.
#   build/macos/notarize.sh build/out/StyleStudio-0.1.0-macos-arm64.dmg
# Secrets (environment; skipped cleanly when absent; needs codesign.sh's keychain first):
#   MACOS_SIGN_IDENTITY   signing identity (as for codesign.sh)
#   APPLE_ID              Apple ID e-mail of the developer account
#   APPLE_TEAM_ID         10-character team id
#   APPLE_APP_PASSWORD    app-specific password for notarytool
set -euo pipefail
DMG="${1:?usage: notarize.sh path/to/app.dmg}"

if [ -z "${MACOS_SIGN_IDENTITY:-}" ] || [ -z "${MACOS_CERTIFICATE:-}" ]; then
  echo "notarize: no signing identity; skipping (an unsigned app cannot be notarized)."
  exit 0
fi
codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
if [ -z "${APPLE_ID:-}" ] || [ -z "${APPLE_TEAM_ID:-}" ] || [ -z "${APPLE_APP_PASSWORD:-}" ]; then
  echo "notarize: APPLE_ID/APPLE_TEAM_ID/APPLE_APP_PASSWORD not set; dmg signed, not notarized."
  exit 0
fi
xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
  --password "$APPLE_APP_PASSWORD" --wait --timeout 2h
xcrun stapler staple "$DMG"
xcrun stapler validate "$DMG"
spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG" || true
echo "notarize: $DMG notarized and stapled"
