# Shared set-up for scripts/test and scripts/demo: makes sure the tools the
# project needs are here, installing them when run as root, or stops with
# a message that says exactly what is missing.

die() { echo "error: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH (need Go 1.26 or newer: https://go.dev/dl/)."

# have_pg reports whether PostgreSQL server binaries are installed.
have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# apt_install installs Debian packages when run as root, else explains.
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    die "missing Debian packages: $*. Install them with: sudo apt-get install $*"
  fi
}

ensure_postgres() {
  have_pg || apt_install postgresql
  have_pg || die "PostgreSQL server binaries (initdb, pg_ctl) still not found after installing postgresql."
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    # As root, PostgreSQL must run as the postgres user, which the package creates.
    apt_install postgresql
  fi
}

# ensure_snmp_tools installs the SNMP peers the tests run against: Debian's
# snmpsim (a real agent we did not write), net-snmp's client tools and
# snmpd, and prometheus-snmp-exporter for the benchmark.
ensure_snmp_tools() {
  local missing=()
  command -v snmpget >/dev/null 2>&1 || missing+=(snmp)
  command -v snmpsimd >/dev/null 2>&1 || missing+=(snmpsim)
  [ -x /usr/sbin/snmpd ] || missing+=(snmpd)
  command -v prometheus-snmp-exporter >/dev/null 2>&1 || missing+=(prometheus-snmp-exporter)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# ensure_chromium installs Debian's Chromium, which the portal's browser
# tests (chromedp, axe-core) drive headless at /usr/bin/chromium, with a
# font so that screenshots show text.
ensure_chromium() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium still not found after installing chromium."
}

# ensure_label_tools installs what the QR label test reads sheets back
# with: pdftoppm renders the PDF, zbarimg decodes the QR codes.
ensure_label_tools() {
  local missing=()
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# ensure_go_tool NAME MODULE@VERSION installs a Go tool into GOBIN.
ensure_go_tool() {
  local gobin
  gobin="$(go env GOBIN)"
  [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
  export PATH="$gobin:$PATH"
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "installing $2" >&2
    go install "$2" || die "could not install $2 with go install"
  fi
}

# ensure_package_tools installs what the packaging tests (internal/pkgbuild)
# use besides dpkg: systemd-analyze, which checks the units without a
# running systemd.
ensure_package_tools() {
  command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
  command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is missing: the packaging tests need a Debian-based machine (package dpkg)."
}

# build_ldflags prints the -ldflags value that stamps a build with this
# checkout's version (VERSION, else git describe, else "dev") and commit.
build_ldflags() {
  local commit version
  commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit+dirty"; fi
  version="${VERSION:-$(git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//' || true)}"
  local pkg=github.com/schulit/cmdb/internal/buildinfo
  echo "-X $pkg.version=${version:-dev} -X $pkg.commit=$commit"
}
