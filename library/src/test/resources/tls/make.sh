#!/bin/sh
# Makes the test certificates in this directory (run it from here; they last a century, so only rerun
# it to change them): a cluster CA; a node certificate it signs (for 127.0.0.1 and localhost), as PEM
# (PKCS#8 key, certificate chain) and as PKCS#12; a client certificate it signs (an operator's); and a
# second CA with a certificate of its own, which the cluster does not trust; and the CA as a PKCS#12
# trust store (keytool). The PKCS#12 password is "changeit". The same commands, with your hosts' names, make a cluster's certificates.
set -eu
days=36500
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days $days -subj "/CN=raftkv test CA" 2>/dev/null
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days $days -subj "/CN=another CA" 2>/dev/null
leaf() { # name CA subject extensions
  openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days $days \
    -extfile "$1.ext" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$1.key" -out "$1-key.pem"
  cat "$1.crt" "$2.pem" > "$1.pem"
  openssl pkcs12 -export -in "$1.pem" -inkey "$1-key.pem" -out "$1.p12" -passout pass:changeit -name "$1"
  rm -f "$1.key" "$1.csr" "$1.ext" "$1.crt"
}
both="extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf node ca "/CN=raftkv node" "$both"
leaf client ca "/CN=operator" "extendedKeyUsage=clientAuth"
leaf stranger other-ca "/CN=stranger" "$both"
rm -f ca.p12
keytool -importcert -noprompt -file ca.pem -keystore ca.p12 -storetype PKCS12 -storepass changeit -alias ca >/dev/null
rm -f ca.key other-ca.key other-ca.pem *.srl
