# vsgate: one image for the controller+webhook (`vsgate controller`) and the receive adapters
# (`vsgate adapter`; the controller's VSPHERE_ADAPTER points at this same image and the adapter
# Deployments it creates pass the argument `adapter`).
#
#   docker build -t vsgate:v0.1.0 .
#   scripts/render-release vsgate:v0.1.0 > release.yaml
#
# Build stage: Debian bookworm with the build dependencies from Debian's archive; the Lua
# specs (busted, luacheck) run as part of the build. Runtime stage: bookworm-slim with the
# shared libraries only, non-root (65532), read-only root filesystem friendly.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates \
      liblua5.4-dev lua5.4 libcurl4-openssl-dev libxml2-dev libcjson-dev libssl-dev \
      libmicrohttpd-dev libyaml-dev lua-busted lua-check \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `git` only names the build (vsgate version); a context without .git builds as "unknown".
# The specs run after the build: they load the real `vsg` module (vsg.so, built from the same
# sources as vsgate) from /build/lua-cmodules.
RUN git config --global --add safe.directory /src \
 && luacheck --no-color -q lua plugins \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DVSG_E2E=OFF \
 && cmake --build /build -j "$(nproc)" \
      --target vsgate vsgate_client vsgate_shared vsgate_lua_vsphere vsgate-list-vms vsg_lua_module \
 && VSG_LUA_CMODULES=/build/lua-cmodules busted --lua=lua5.4 -o TAP >/dev/null \
 && DESTDIR=/out cmake --install /build --strip \
 && install -D -m 0755 -s /build/samples/bound-app/vsgate-list-vms /app/vsgate-list-vms \
 && install -D -m 0644 samples/bound-app/list-vms.lua /app/list-vms.lua \
 && /out/usr/bin/vsgate version \
 && /out/usr/bin/kn-vsphere version

# The sample bound app (samples/bound-app), for trying a VSphereBinding:
#   docker build --target bound-app -t vsgate-bound-app:v0.1.0 .
# `vsgate-list-vms` (C, libvsgate.so) and `lua5.4 /app/list-vms.lua` (the vsgate.vsphere module).
FROM debian:bookworm-slim AS bound-app
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates lua5.4 libcurl4 libxml2 libcjson1 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/lib/ /usr/lib/
COPY --from=build /app/ /app/
RUN ln -s /app/vsgate-list-vms /usr/local/bin/vsgate-list-vms && ldconfig
USER 65532:65532
CMD ["/app/vsgate-list-vms"]

# The default target: controller, webhook and adapter.
FROM debian:bookworm-slim AS vsgate
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates liblua5.4-0 libcurl4 libxml2 libcjson1 libssl3 libmicrohttpd12 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/*
# /usr/bin/vsgate and the Lua it runs (reconcilers, webhooks, filter plugins) in /usr/share/vsgate.
COPY --from=build /out/usr/ /usr/
USER 65532:65532
ENTRYPOINT ["/usr/bin/vsgate"]
