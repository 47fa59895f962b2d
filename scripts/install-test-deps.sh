#!/usr/bin/env bash
# Installs what the integration and differential tests need from Debian:
#   busybox-static  the static busybox copied into every test rootfs
#   runc            the reference runtime for the differential suite
#   jq              handy in CI logs and manual checks of state JSON
#   containerd      the end-to-end suite (containerd, ctr, containerd-shim-runc-v2)
#   podman          the podman end-to-end suite (podman and conmon; run without network)
#   docker.io       the docker end-to-end suite (dockerd, docker, docker-init; a private
#                   daemon without network; its service is never started by the install)
#   libseccomp2     loaded by the addon at run time for linux.seccomp
#   iproute2        `ip netns` and veth pairs for the namespace-joining and netDevices tests
#   uidmap          newuidmap/newgidmap for the rootless tests
#   bsdutils        script(1), a real terminal for the tty tests
#   strace          shows the seccomp(2) flags a container's filter is loaded with
#   systemd, dbus   systemd booted inside a test container, for --systemd-cgroup
#                   (runc asks it over the system bus, tsrun over its private socket)
# Idempotent and quiet: does nothing when everything is present. Without root
# it only reports what is missing (tests needing it will skip or fail with a
# clear reason) and never fails the test run by itself.
set -uo pipefail

PKGS=(busybox-static runc jq containerd podman docker.io libseccomp2 iproute2 uidmap bsdutils strace systemd dbus)

installed() {
  local pkg=$1
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
    return
  fi
  # Not Debian: accept the commands themselves (busybox must be a static one,
  # which bundle.ts checks when it builds a rootfs).
  case "$pkg" in
    busybox-static) command -v busybox >/dev/null 2>&1 ;;
    *) command -v "$pkg" >/dev/null 2>&1 ;;
  esac
}

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} (need root and apt-get to install); continuing" >&2
  exit 0
fi

echo "install-test-deps: installing ${missing[*]}" >&2
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# A package's own service (docker.io's dockerd, with a bridge, iptables rules and
# ip_forward on the host) must not start: Debian's maintainer scripts ask
# policy-rc.d, and a machine without one gets one for the length of the install.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# install-test-deps.sh: no service starts during the install\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
installed_ok=
if apt-get update -qq >"$log" 2>&1 &&
   apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  installed_ok=1
fi
[ -n "$own_policy" ] && rm -f "$policy"
if [ -n "$installed_ok" ]; then
  rm -f "$log"
  exit 0
fi
# Show apt's own output only when it failed; keep going so the run reports
# the tests that can still run.
cat "$log" >&2
rm -f "$log"
echo "install-test-deps: could not install ${missing[*]}; continuing" >&2
exit 0
