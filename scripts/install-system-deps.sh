#!/usr/bin/env bash
# Install what cpsim needs from the operating system, only if it is missing:
#   the ngspice shared library (PySpice opens libngspice.so), the ngspice command
#   line (to run circuits/*.cir by hand and in tests), Python's venv module, a C
#   compiler and Python's headers (pip compiles cpsim/io/_fastrows.c, the fast capture
#   row parser; the tests check it was built), and Chromium (the report is checked in
#   a headless browser).
# Debian/Ubuntu: installs with apt-get (as root, or through sudo). Elsewhere: says what to do.
set -euo pipefail

have_libngspice() {
    if [ -n "${NGSPICE_LIBRARY_PATH:-}" ] && [ -e "$NGSPICE_LIBRARY_PATH" ]; then return 0; fi
    ldconfig -p 2>/dev/null | grep -q 'libngspice\.so ' && return 0
    for d in /usr/lib /usr/local/lib /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /opt/homebrew/lib; do
        [ -e "$d/libngspice.so" ] || [ -e "$d/libngspice.dylib" ] && return 0
    done
    return 1
}

missing=()
have_libngspice || missing+=(libngspice0-dev)
command -v ngspice >/dev/null 2>&1 || missing+=(ngspice)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    >/dev/null 2>&1 || missing+=(python3-dev)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "cpsim setup: need root to install: ${missing[*]} (run as root or install sudo)" >&2; exit 1
        fi
    fi
    echo "cpsim setup: installing ${missing[*]} with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi

case "$(uname -s)" in
    Darwin)
        echo "cpsim setup: missing ${missing[*]}. On macOS: brew install libngspice ngspice chromium" >&2 ;;
    *)
        echo "cpsim setup: missing ${missing[*]}. With conda: conda install -c conda-forge ngspice;" \
             "otherwise install your distribution's ngspice shared library and set NGSPICE_LIBRARY_PATH" >&2 ;;
esac
# Chromium is only needed for the report rendering check; ngspice is essential.
if ! have_libngspice; then exit 1; fi
