# willitrun-bot. Two images from one file:
#   docker build --target cuda -t willitrun-bot:cuda .   llama-cpp-python built with CUDA (the default target)
#   docker build --target cpu  -t willitrun-bot:cpu  .   no GPU needed
# Both install what `make setup` installs, in the same order. Runtime state lives on volumes: /app/index (the
# search index), /app/data (the bot's data) and /models (GGUF files to point LLM_MODEL_PATH at).
#
# CUDA build arguments: CUDA_DEVEL_IMAGE and CUDA_RUNTIME_IMAGE pick the nvidia/cuda images (devel to compile,
# runtime to run; keep both on one CUDA version); the host's driver must support that CUDA version (12.6: driver 560
# or newer). CUDA_ARCHITECTURES lists the GPU generations compiled for: 75 Turing, 80/86 Ampere, 89 Ada, 90 Hopper.
# Fewer compile faster; Blackwell (100, 120) needs CUDA 12.8 or newer.

# Base images are pinned by digest (a tag can be re-pointed; a digest cannot). Each digest below is the multi-platform
# index digest as published on its registry and as pinned by several unrelated public projects, checked 2026-12-05:
#   python:3.11-slim-bookworm                 Python 3.11.16, index resolved 2026-10-01
#   nvidia/cuda:12.6.3-devel-ubuntu24.04      nvidia/cuda:12.6.3-runtime-ubuntu24.04
#   ghcr.io/astral-sh/uv:0.10.8               (the CUDA images have no Python 3.11; uv installs one, see below)
# To move to newer bases: `docker buildx imagetools inspect IMAGE:TAG` prints the digest to put here.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
ARG CUDA_DEVEL_IMAGE=nvidia/cuda:12.6.3-devel-ubuntu24.04@sha256:392c0df7b577ecae17a17f6ba7f2009c217bb4422f8431c053ae9af61a8c148a
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:12.6.3-runtime-ubuntu24.04@sha256:92906d87596d638d35015c6353053121bd299d25943b875763321653884ba924
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.10.8@sha256:88234bc9e09c2b2f6d176a3daf411419eb0370d450a08129257410de9cfafd2a
# PyTorch's CPU wheels: the embedding model runs on the CPU (bot/retrieval/embed.py), so a CUDA torch would add
# gigabytes and speed up nothing; the GPU is left to the language model. requirements.lock pins torch==2.13.0+cpu
# by the hash of the file this index serves.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# uv's own image, only to copy its binary from (a named stage: COPY --from cannot take a build argument)
FROM ${UV_IMAGE} AS uv

# ------------------------------------------------------------------------------------------------ CPU build
FROM ${PYTHON_IMAGE} AS cpu-build
ARG TORCH_INDEX
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /app
# Exactly what `make setup` installs, from the same lock files: every package at an exact version, and pip refuses
# any file whose sha256 is not in the lock (--require-hashes). The lock also holds the `test` extra (pytest,
# hypothesis, ruff: a few MB), so the image runs the versions CI tested. The dependencies come before the
# source, so that editing the code does not recompile llama-cpp-python.
COPY requirements.lock requirements-nodeps.lock ./
RUN pip install --require-hashes --extra-index-url "${TORCH_INDEX}" -r requirements.lock \
    && pip install --no-deps --require-hashes -r requirements-nodeps.lock
COPY pyproject.toml README.md ./
COPY bot/ bot/
# editable, as `make setup` does: the package finds knowledge/ beside it, in /app
RUN pip install --no-deps -e .

# ------------------------------------------------------------------------------------------------ CUDA build
FROM ${CUDA_DEVEL_IMAGE} AS cuda-build
ARG TORCH_INDEX
ARG CUDA_ARCHITECTURES="75;80;86;89;90"
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
# Ubuntu 24.04 ships Python 3.12, and the lock is resolved for 3.11 (torch's CPU wheel in it is the cp311 one).
# uv installs a standalone CPython 3.11.15 into /opt/python and checks its download against the sha256 that this
# uv release carries for it; the runtime stage copies /opt/python with the virtual environment.
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_INSTALL_DIR=/opt/python
RUN uv python install 3.11.15 \
    && "$(uv python find 3.11.15)" -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock requirements-nodeps.lock ./
# llama-cpp-python compiles llama.cpp here with the CUDA backend (long: tens of minutes on a few cores), from the
# source archive whose hash is in the lock. The driver library is not in a build container; CMake links against
# the toolkit's stub, and the NVIDIA container runtime mounts the real one when the container runs.
RUN CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    pip install --require-hashes --extra-index-url "${TORCH_INDEX}" -r requirements.lock \
    && pip install --no-deps --require-hashes -r requirements-nodeps.lock
COPY pyproject.toml README.md ./
COPY bot/ bot/
RUN pip install --no-deps -e .

# ------------------------------------------------------------------------------------------------ CPU image
FROM ${PYTHON_IMAGE} AS cpu
# libgomp1: llama.cpp runs its CPU threads with OpenMP
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group willitrun
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
COPY --from=cpu-build /opt/venv /opt/venv
WORKDIR /app
COPY bot/ bot/
COPY knowledge/ knowledge/
# the volume folders, owned by the bot's user: Docker copies them, owner included, into new named volumes
RUN mkdir -p /app/index /app/data /models && chown 10001:10001 /app/index /app/data /models
USER 10001:10001
# a first index in the image, so that a fresh volume starts with one; the bot updates it when entries change
RUN willitrun index build
VOLUME ["/app/index", "/app/data", "/models"]
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["willitrun", "health", "--discord"]
CMD ["willitrun", "run"]

# ------------------------------------------------------------------------------------------------ CUDA image
FROM ${CUDA_RUNTIME_IMAGE} AS cuda
# libgomp1 for llama.cpp's CPU threads; no system Python: the interpreter is the one uv installed in the build stage
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group willitrun
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
COPY --from=cuda-build /opt/python /opt/python
COPY --from=cuda-build /opt/venv /opt/venv
WORKDIR /app
COPY bot/ bot/
COPY knowledge/ knowledge/
RUN mkdir -p /app/index /app/data /models && chown 10001:10001 /app/index /app/data /models
USER 10001:10001
RUN willitrun index build
VOLUME ["/app/index", "/app/data", "/models"]
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["willitrun", "health", "--discord"]
CMD ["willitrun", "run"]
