#!/usr/bin/env bash
# Generates the secured compose cluster's secrets into deploy/compose/secure/generated/:
#   tls/ca.pem, tls/vivace.pem   a development CA and the coordinator's certificate
#                                (localhost, 127.0.0.1 and coordinator), from `vivace gen-cert`
#   password.db                  user `admin` (password: $VIVACE_ADMIN_PASSWORD, or generated)
#   jwt/jwt-private.pem, jwt/jwt-public.pem   an RSA key pair; tokens signed with the private
#                                key and issuer `vivace-compose` are accepted
#   cluster.env                  VIVACE_SHARED_SECRET, the nodes' internal shared secret
#
#   deploy/compose/secure/setup.sh            (uses image $VIVACE_IMAGE, default vivace:latest)
#
# These are for a local cluster: the files are made readable by the containers' user (1000).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/generated"
image="${VIVACE_IMAGE:-vivace:latest}"
vivace() { docker run --rm -i --user "$(id -u):$(id -g)" -v "$out:/out" --entrypoint /usr/lib/vivace/bin/vivace "$image" "$@"; }

mkdir -p "$out/tls" "$out/jwt"
vivace gen-cert --force --host localhost --host 127.0.0.1 --host coordinator --out /out/tls >/dev/null

password="${VIVACE_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
printf '%s\n' "$password" | vivace hash-password --user admin --cost 8 >"$out/password.db"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/jwt/jwt-private.pem" 2>/dev/null
openssl pkey -in "$out/jwt/jwt-private.pem" -pubout -out "$out/jwt/jwt-public.pem"

printf 'VIVACE_SHARED_SECRET=%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$out/cluster.env"
chmod -R a+rX "$out"
echo "secrets written to $out"
if [ -z "${VIVACE_ADMIN_PASSWORD:-}" ]; then
    echo "user admin, password $password"
fi
