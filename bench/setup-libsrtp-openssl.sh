#!/usr/bin/env bash
# Builds libsrtp 2.5 (Debian's source package, unmodified) against OpenSSL 3, as the baseline the
# side-by-side benchmark compares with. Nothing of libsrtp is committed: it is fetched with
# `apt-get source` at set-up time, using private apt state and lists so the system's package
# lists are untouched, and built into OUT (default build/bench/libsrtp-openssl).
#   usage: bench/setup-libsrtp-openssl.sh [OUT]
# Prints the path of the built shared library on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$here/build/bench/libsrtp-openssl}")
lib="$out/install/lib/x86_64-linux-gnu/libsrtp2.so"
[ -f "$lib" ] || lib="$out/install/lib/libsrtp2.so"
if [ -f "$lib" ]; then echo "$lib"; exit 0; fi

mkdir -p "$out"/apt/{lists/partial,cache/archives/partial} "$out/src"
cat > "$out/apt/sources.list" <<'SRC'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
SRC
apt_opts=(-o "Dir::Etc::sourcelist=$out/apt/sources.list" -o "Dir::Etc::sourceparts=-"
          -o "Dir::State::Lists=$out/apt/lists" -o "Dir::Cache=$out/apt/cache" -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update -qq
(cd "$out/src" && apt-get "${apt_opts[@]}" source --download-only libsrtp2 >/dev/null)
tarball=$(ls "$out"/src/libsrtp2_*.orig.tar.gz | head -1)
tar -xzf "$tarball" -C "$out/src"
srcdir=$(ls -d "$out"/src/libsrtp-*/ | head -1)
meson setup "$out/build" "$srcdir" --prefix "$out/install" -Dcrypto-library=openssl -Dtests=disabled \
  -Ddoc=disabled -Dbuildtype=release -Ddefault_library=shared >/dev/null
ninja -C "$out/build" >/dev/null
ninja -C "$out/build" install >/dev/null
lib=$(find "$out/install" -name 'libsrtp2.so' | head -1)
[ -f "$lib" ] || { echo "setup-libsrtp-openssl: build produced no libsrtp2.so" >&2; exit 1; }
echo "$lib"
