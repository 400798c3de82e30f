# syntax=docker/dockerfile:1
# One image for every service: `python -m <service>` (the chart passes the service as the
# argument: gateway, ws, engine, settlement, dbwriter, marketmaker, launcher.bootstrap).
# Three stages: the web page (node), the compiled core and protobuf code (build tools), and a
# slim runtime with neither compilers nor node, running as an unprivileged user. Every Python
# package comes from the committed locks (exact versions, hashes checked). The base images are build
# arguments (`make image-check` substitutes local ones; see docs/image.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# Node 24: an LTS line (supported until April 2028).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- the web page: web/dist
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- dependencies, generated protobuf code, the mypyc-compiled matching core
FROM ${PYTHON_IMAGE} AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The runtime dependencies (the project itself runs from /app/services); build-only tools live in a
# venv of their own, left behind in this stage.
COPY requirements/runtime.lock requirements/codegen.lock requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r requirements/runtime.lock
ENV PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/tools \
    && /opt/tools/bin/pip install --require-hashes -r requirements/codegen.lock
COPY protos/ protos/
COPY services/ services/
# As `make protos core` does (generated code and the compiled core are never committed).
RUN mkdir -p services/exchange_proto \
    && PATH=/opt/tools/bin:$PATH python -m grpc_tools.protoc -Iprotos --python_out=services \
        --mypy_out=services --grpc_python_out=services protos/exchange_proto/*.proto \
    && touch services/exchange_proto/__init__.py services/exchange_proto/py.typed \
    && cd services && /opt/tools/bin/mypyc $(cat compiled-modules.txt) > /tmp/mypyc.log 2>&1 \
    || { cat /tmp/mypyc.log; exit 1; }
# mypyc's build folder and mypy's cache stay behind; only sources and the built modules go on.
RUN rm -rf services/build services/.mypy_cache && find services -name __pycache__ -prune -exec rm -rf {} +

# ---- runtime
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/services \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WEB_DIR=/app/web
RUN groupadd --system --gid 10001 exchange \
    && useradd --system --uid 10001 --gid exchange --no-create-home --shell /usr/sbin/nologin exchange
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/services /app/services
COPY --from=web /web/dist /app/web
WORKDIR /app
USER 10001:10001
EXPOSE 8000 8001 50051 9100
ENTRYPOINT ["python", "-m"]
CMD ["gateway"]
