#!/bin/sh
# Assemble a minimal busybox-static root filesystem in DIR.
# Usage: tools/mkrootfs.sh DIR
# Needs /bin/busybox from the busybox-static package (tools/deps.sh installs it).
set -eu

dir=${1:?usage: mkrootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}

if ! "$busybox" --help 2>&1 | head -1 | grep -q BusyBox; then
	echo "mkrootfs: $busybox is not busybox (install busybox-static)" >&2
	exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkrootfs: $busybox is dynamically linked; install busybox-static" >&2
	exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/tmp home/user mnt
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
chmod 0755 bin/busybox
# Each applet becomes a symlink to /bin/busybox at its usual path.
chroot . /bin/busybox --install -s

cat >etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >etc/group <<'GR'
root:x:0:
tty:x:5:
users:x:100:
user:x:1000:
nogroup:x:65534:
GR
echo hutch >etc/hostname
: >etc/resolv.conf
chown 1000:1000 home/user
