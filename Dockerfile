# syntax=docker/dockerfile:1
# buchumen: the service with its production adapters; configure it with BUCHUMEN_* variables
# (see README.md, "Configuration"). storage/compose.yaml runs it with MongoDB and MinIO.

# -- build: turn the source into a wheel (catalog, templates and static files included) ------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY bot ./bot
COPY payments ./payments
COPY logistics ./logistics
COPY ocr ./ocr
COPY storage ./storage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# -- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The Debian packages of app/provision.py's SYSTEM_REQUIREMENTS that serving needs (the test
# browser and the corpus's extra faces stay out); Noto CJK draws the electronic certificates.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim \
        libgl1 libglib2.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Dependencies in their own layer, rebuilt only when pyproject.toml changes.
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt /tmp/pyproject.toml

COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/buchumen --create-home \
        --shell /usr/sbin/nologin buchumen
USER buchumen
WORKDIR /var/lib/buchumen
VOLUME ["/var/lib/buchumen"]

ENV BUCHUMEN_HOST=0.0.0.0 \
    BUCHUMEN_DATA_DIR=/var/lib/buchumen
EXPOSE 8080

# Healthy when the process answers /healthz on its port: serve's (BUCHUMEN_PORT) or, for
# `buchumen worker`, BUCHUMEN_WORKER_PORT; one image runs both roles.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u\nfor p in (os.environ.get('BUCHUMEN_PORT', '8080'), os.environ.get('BUCHUMEN_WORKER_PORT', '8090')):\n    try:\n        u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=2); sys.exit(0)\n    except OSError:\n        pass\nsys.exit(1)"]

# SIGTERM (docker stop) stops it gracefully: the port refuses new connections, requests in
# flight are answered, background work winds down, all within BUCHUMEN_SHUTDOWN_GRACE (8 s by
# default), inside docker stop's 10 s; give a longer grace a longer `docker stop -t` (or compose's
# stop_grace_period). The exec form keeps the service PID 1, so the signal reaches it.
STOPSIGNAL SIGTERM
CMD ["buchumen", "serve"]
