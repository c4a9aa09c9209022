#!/bin/sh
# Install what hutch needs to build, test and demo, with apt, if missing.
# Idempotent: when everything is present it changes nothing (and needs no root).
set -eu

PKGS="make gcc libc6-dev meson ninja-build pkg-config libjson-c-dev libseccomp-dev
libmnl-dev busybox-static python3 python3-pytest iproute2 util-linux clang clang-format
uidmap qemu-system-x86 cpio gnuplot-nox runc crun
podman conmon golang-github-containers-common netavark aardvark-dns
containernetworking-plugins catatonit containerd docker.io tini iptables"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all build dependencies present"
	exit 0
fi

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to install packages (run as root or with sudo)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
