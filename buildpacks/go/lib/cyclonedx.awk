# CycloneDX 1.4 JSON of a Go binary from `go version -m BINARY` (the modules compiled into it).
# Variables: name (component name), module (its module path), go (toolchain version, e.g. 1.26.8).
# Used by bin/build for the app and by ../build-builder.sh for the lifecycle and launcher.
BEGIN {
  printf "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"version\":1,\"metadata\":{\"component\":{\"type\":\"application\",\"name\":\"%s\",\"purl\":\"pkg:golang/%s\"}},\"components\":[", name, module
  printf "{\"type\":\"library\",\"name\":\"stdlib\",\"version\":\"go%s\",\"purl\":\"pkg:golang/stdlib@go%s\"}", go, go
}
$1 == "dep" {
  printf ",{\"type\":\"library\",\"name\":\"%s\",\"version\":\"%s\",\"purl\":\"pkg:golang/%s@%s\",\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"%s\"}]}", $2, $3, $2, $3, $4
}
END { print "]}" }
