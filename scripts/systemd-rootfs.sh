#!/bin/sh
# Builds, once, the root file system of the systemd test host: a minimal
# Debian bookworm with systemd, dbus, python3, curl, rpm and the PostgreSQL
# client, in target/systemd-rootfs (about 450 MB, about a minute). Tests
# boot it with systemd-nspawn --volatile=overlay, so it stays as built.
set -eu
cd "$(dirname "$0")/.."
dest=target/systemd-rootfs
[ -f "$dest/.hop-complete" ] && exit 0
for tool in debootstrap systemd-nspawn; do
    command -v "$tool" >/dev/null || {
        echo "systemd-rootfs: $tool is missing: run make deps (apt-get install debootstrap systemd-container)"
        exit 1
    }
done
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
echo "systemd-rootfs: debootstrap bookworm from $mirror into $dest (once)"
rm -rf "$dest.tmp"
mkdir -p target
debootstrap --variant=minbase \
    --include=systemd,dbus,python3,curl,rpm,postgresql-client,passwd,procps \
    bookworm "$dest.tmp" "$mirror" >target/systemd-rootfs.log 2>&1 \
    || { echo "systemd-rootfs: debootstrap failed, see target/systemd-rootfs.log"; exit 1; }
# No console login, no network setup: the container only runs services.
rm -f "$dest.tmp/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
echo hop-test > "$dest.tmp/etc/hostname"
touch "$dest.tmp/.hop-complete"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "systemd-rootfs: ready"
