#!/bin/sh
# Fetches Debian's daemonless systemctl (a Python script) into test/.cache/systemctl for the
# systemd tests, and prints the path of the extracted folder. Idempotent: a present copy is reused.
# It is only extracted, never installed: the package conflicts with systemd.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
dest="${REARGUARD_SYSTEMCTL_DIR:-$root/test/.cache/systemctl}"
script="$dest/usr/bin/systemctl"

if [ -f "$script" ]; then
  echo "$dest"
  exit 0
fi

for tool in apt-get dpkg; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch-systemctl: $tool is missing; this script needs a Debian or Ubuntu machine (apt-get download systemctl)" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rearguard-systemctl.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt drops privileges to _apt while downloading; let it write into the temp folder.
chmod 0777 "$work"
(cd "$work" && apt-get download systemctl >&2) || {
  echo "fetch-systemctl: apt-get download systemctl failed; run apt-get update, then retry" >&2
  exit 1
}
deb=$(ls "$work"/systemctl_*.deb)
mkdir -p "$work/extract"
dpkg -x "$deb" "$work/extract"
if [ ! -f "$work/extract/usr/bin/systemctl" ]; then
  echo "fetch-systemctl: $deb has no usr/bin/systemctl; expected Debian's daemonless systemctl package" >&2
  exit 1
fi
# Move into place in one step so an interrupted fetch never leaves half a folder.
# A concurrent fetch may win the race; its copy is as good as ours.
mkdir -p "$(dirname "$dest")"
if ! mv -T "$work/extract" "$dest" 2>/dev/null; then
  [ -f "$script" ] || { echo "fetch-systemctl: could not move the package into $dest" >&2; exit 1; }
fi
echo "$dest"
