# syntax=docker/dockerfile:1
# The lws image: `deno task compile` in a build stage (which has network: deno compile downloads Deno's denort
# runtime for the target), the single binary on a minimal non-root base.
#
#   docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD) -t lws-deno:v0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t lws-deno:v0.1.0 .
#
# The build stage runs on the build machine's platform and cross-compiles with --target, so multi-arch builds need
# no emulation. The same binary comes out of `deno task compile` on any machine with network access.

FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build
ARG TARGETARCH
ARG GIT_COMMIT=unknown
# Deno pinned to the version the project is developed and tested with.
RUN npm install --global deno@2.9.6 && deno --version
WORKDIR /src
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && LWS_GIT_COMMIT="$GIT_COMMIT" deno task compile --target "$target" --output /out/lws

# glibc and libgcc (what a deno compile binary links against), no shell, user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/lws /manager
USER 65532:65532
EXPOSE 9443 8443 8081 8082
ENTRYPOINT ["/manager"]
CMD ["run"]
