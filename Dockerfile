# syntax=docker/dockerfile:1
#
# The nixdock CLI as a container image, for CI systems other than GitHub
# Actions. The image has no Nix: it runs the commands that need none
# (verify, diff, sbom of an image or record, push, sign, verify-signature,
# lint, inspect); build and reproduce run where Nix is (see docs/action.md).
#
#   docker build -t nixdock .
#   docker run --rm -v "$PWD:/work" -w /work nixdock verify a.json b.json
#
# Reproducible: base images pinned by digest, a static binary (no cgo),
# -trimpath, no build ID, no VCS stamp, and the version passed explicitly.
# The digests below are those of golang:1.26-bookworm and
# gcr.io/distroless/static-debian12:nonroot when this file was written; they
# could not be resolved from the machine this was written on, so refresh
# them before a release (`docker buildx imagetools inspect golang:1.26-bookworm`,
# or let Dependabot's docker ecosystem keep them current).

ARG GO_IMAGE=golang:1.26-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

FROM ${GO_IMAGE} AS build
ARG VERSION=devel
ARG COMMIT=unknown
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath \
      -ldflags="-s -w -buildid= -X github.com/nixdock/nixdock-action/internal/version.Version=${VERSION} -X github.com/nixdock/nixdock-action/internal/version.Commit=${COMMIT}" \
      -o /out/nixdock ./cmd/nixdock

FROM ${BASE_IMAGE}
COPY --from=build /out/nixdock /usr/local/bin/nixdock
ENTRYPOINT ["/usr/local/bin/nixdock"]
CMD ["--help"]
