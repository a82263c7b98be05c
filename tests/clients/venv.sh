# Sourced by the Python test scripts: creates (or reuses) the virtualenv $VENV with
# tests/clients/requirements.txt installed, and sets VPY to its interpreter.
# Needs: VENV, PYTHON (interpreter to create it with), log (a function).
_requirements="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt"
if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
# Reinstall only when requirements.txt changed since the last successful install.
_req_hash="$("$VPY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$_requirements")"
_stamp="$VENV/.vivace-clients-requirements.sha256"
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_req_hash" ]; then
    log "installing $_requirements into $VENV"
    "$VPY" -m pip install --quiet --disable-pip-version-check -r "$_requirements"
    printf '%s\n' "$_req_hash" >"$_stamp"
fi
