#!/bin/sh
# Installs what the given make targets need, from the one list deps/debian.txt:
#   sh tools/install-deps.sh test          (make test; also demo, bench, valgrind, ...)
#   sh tools/install-deps.sh --list test   (print the packages, install nothing)
# Debian packages marked `build` or one of the targets are installed when missing, as root. Not
# root: one message naming the missing packages and the apt-get line, exit 1 (instead of a
# compiler error later). For test and bench, the Node SDK of tests/node is installed with npm
# when npm is present; else one line says what will be skipped.
cd "$(dirname "$0")/.." || exit 1
LIST=deps/debian.txt
list_only=
[ "${1:-}" = "--list" ] && { list_only=1; shift; }
[ $# -gt 0 ] || set -- build

# the packages of the list whose TARGETS column names `build` or one of "$@"
wanted=$(awk -v targets="$*" '
  BEGIN { n = split(targets, t, " "); want["build"] = 1; for (i = 1; i <= n; i++) want[t[i]] = 1 }
  /^[[:space:]]*(#|$)/ { next }
  { m = split($2, tg, ","); for (i = 1; i <= m; i++) if (tg[i] in want) { print $1; break } }
' "$LIST")
if [ -n "$list_only" ]; then
  echo $wanted
  exit 0
fi

node_sdk() {
  case " $* " in *" test "*|*" bench "*) ;; *) return 0 ;; esac
  [ -f tests/node/package-lock.json ] || return 0
  # npm ci leaves node_modules/.package-lock.json; newer than the lock file means up to date
  [ tests/node/node_modules/.package-lock.json -nt tests/node/package-lock.json ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "skip: npm is not installed, so the official Node SDK cross-check (tests/node_sdk_spec.lua)" \
      "and the Node bench peer will be skipped (apt-get install nodejs npm to run them)"
    return 0
  fi
  echo "installing the Node SDK for the cross-check: (cd tests/node && npm ci)"
  (cd tests/node && npm ci --no-audit --no-fund --silent) ||
    echo "skip: npm ci failed in tests/node; the Node SDK cross-check and bench peer will be skipped"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "note: not a Debian system (no dpkg-query); make sure these are installed: $(echo $wanted)" >&2
  node_sdk "$@"
  exit 0
fi
missing=""
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
missing=${missing# }
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "make $*: missing Debian packages: $missing" >&2
    echo "install them as root, then run make $* again:" >&2
    echo "  sudo apt-get install -y --no-install-recommends $missing" >&2
    exit 1
  fi
  echo "installing Debian packages for make $*: $missing"
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
       apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "apt-get install failed for: $missing" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
node_sdk "$@"
exit 0
