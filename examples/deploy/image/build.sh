#!/usr/bin/env bash
# Builds an OCI image of mq with buildah, FROM scratch: the mq binary, the
# shared libraries it links (as ldd lists them, at the same paths) with the
# dynamic loader, and /etc/passwd, /etc/group and /etc/nsswitch.conf for a
# non-root user (10001). No shell, no package manager.
#
#   examples/deploy/image/build.sh [MQ_BINARY] [IMAGE]
#   examples/deploy/image/build.sh build/mq mq:latest      (the defaults)
#   KEEP_DEBUG=1 examples/deploy/image/build.sh              (keep debug info)
#
# Run it on the machine (or in a container of the distribution) that built
# the binary: the libraries are taken from this file system. Push the image
# with `buildah push IMAGE docker://REGISTRY/mq:TAG`.
# Exit codes: 0 built, 1 failed, 2 bad arguments or buildah missing.
set -euo pipefail

usage() {
  echo "usage: $0 [MQ_BINARY (default build/mq)] [IMAGE (default mq:latest)]" >&2
}

if [ "$#" -gt 2 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  usage
  exit 2
fi
binary="${1:-build/mq}"
image="${2:-mq:latest}"
uid=10001
gid=10001

if ! command -v buildah >/dev/null 2>&1; then
  echo "build.sh: buildah is not installed (Debian/Ubuntu: apt-get install buildah; see https://buildah.io)" >&2
  exit 2
fi
if ! command -v ldd >/dev/null 2>&1; then
  echo "build.sh: ldd is not installed (it comes with the C library's tools: libc-bin)" >&2
  exit 2
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
  echo "build.sh: $binary is not an executable file (give the mq binary: build/mq)" >&2
  usage
  exit 2
fi

staging="$(mktemp -d)"
container=""
cleanup() {
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$staging"
}
trap cleanup EXIT

rootfs="$staging/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/var/lib/mq"
chmod 1777 "$rootfs/tmp"
install -m 0755 "$binary" "$rootfs/usr/local/bin/mq"
# A RelWithDebInfo binary is mostly debug information (about 200 MB of
# 220): it is left out of the image unless KEEP_DEBUG=1.
if [ "${KEEP_DEBUG:-0}" != "1" ]; then
  if command -v strip >/dev/null 2>&1; then
    strip --strip-debug "$rootfs/usr/local/bin/mq"
  else
    echo "build.sh: strip is not installed: the image keeps the binary's debug information" >&2
  fi
fi

# The libraries and the loader: "libx.so.1 => /lib/.../libx.so.1 (0x...)"
# and "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso is the kernel's.
ldd_output="$(ldd "$binary")"
if grep -q "not found" <<<"$ldd_output"; then
  echo "build.sh: $binary links libraries this machine does not have:" >&2
  grep "not found" <<<"$ldd_output" >&2
  exit 1
fi
libraries=()
while read -r first second third _; do
  if [ "$second" = "=>" ] && [ "${third:0:1}" = "/" ]; then
    libraries+=("$third")
  elif [ "${first:0:1}" = "/" ]; then
    libraries+=("$first")
  fi
done <<<"$ldd_output"
if [ "${#libraries[@]}" -eq 0 ]; then
  echo "build.sh: ldd lists no libraries for $binary (a static binary needs no script)" >&2
  exit 1
fi
for library in "${libraries[@]}"; do
  mkdir -p "$rootfs$(dirname "$library")"
  # -L: the file itself where the path is a symbolic link (the loader's is).
  cp -L "$library" "$rootfs$library"
done

printf 'root:x:0:0:root:/:/sbin/nologin\nmq:x:%s:%s:mq:/var/lib/mq:/sbin/nologin\n' "$uid" "$gid" \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nmq:x:%s:\n' "$gid" >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

version="$("$binary" version 2>/dev/null | head -n 1 || true)"

container="$(buildah from scratch)"
buildah copy --chown 0:0 "$container" "$rootfs" /
buildah copy --chown "$uid:$gid" "$container" "$staging/rootfs/var/lib/mq" /var/lib/mq
buildah config \
  --entrypoint '["/usr/local/bin/mq"]' \
  --cmd '["node","--help"]' \
  --port 7001 \
  --port 8001 \
  --user "$uid:$gid" \
  --env PATH=/usr/local/bin \
  --workingdir /var/lib/mq \
  --volume /var/lib/mq \
  --label org.opencontainers.image.title=mq \
  --label "org.opencontainers.image.description=mq: a sharded Raft key-value store (${version:-unknown version})" \
  "$container"
buildah commit --rm "$container" "$image"
container=""
echo "build.sh: built $image from $binary (${#libraries[@]} libraries)"
