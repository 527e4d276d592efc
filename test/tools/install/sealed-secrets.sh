# sealed-secrets: the Sealed Secrets controller (for the image build.sh packs) and kubeseal (opt-in; put on PATH)
# v0.27.1 is the newest release under the module path github.com/bitnami-labs/sealed-secrets;
# later ones moved to github.com/bitnami/sealed-secrets, which the checksum database here does not
# know (404). Its CRD is vendored in third_party/ from the same version. The controller is static
# (CGO off) because test/tools/images/build.sh packs it into an image; kubeseal because the tests
# check the library's own sealing against its --recovery-unseal. 1-2 min each on 2 cores.
# shellcheck shell=bash

SEALED_SECRETS_VERSION=v0.27.1

install_sealed_secrets() {
  local bin
  for bin in controller kubeseal; do
    CGO_ENABLED=0 LDX="-X main.VERSION=$SEALED_SECRETS_VERSION" go_install sealed-secrets "$SEALED_SECRETS_VERSION" "$bin" \
      "github.com/bitnami-labs/sealed-secrets/cmd/$bin"
  done
}
