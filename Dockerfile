# Handsup, production image: slim, non-root, data on a volume, JSON logs, healthcheck on /healthz.
# docs/deploy.md says how to run it alone and in compose.yaml.

# --- build: the dependencies in a virtual environment, from the lock --------------------------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Exactly the versions the test suite passed with, each checked against its hashes, nothing resolved here: the lock
# (requirements/run.txt, `make lock`) holds every dependency and setuptools, which builds the project below. Its own
# layer, rebuilt only when the lock changes. The base image's pip is used as it is (no upgrade from the network).
COPY requirements/run.txt requirements/run.txt
RUN python -m venv /opt/handsup \
    && /opt/handsup/bin/pip install --require-hashes --no-deps -r requirements/run.txt
# Empty packages stand in for the source: pip installs only the project's metadata and the `handsup` command (its
# dependencies are in already: --no-deps; setuptools from the lock: --no-build-isolation), and the real server/ and
# activities/ come from /app at run time (PYTHONPATH), so editing the code never reinstalls the rest.
COPY pyproject.toml ./
RUN mkdir server activities && touch README.md server/__init__.py activities/__init__.py \
    && /opt/handsup/bin/pip install --no-deps --no-build-isolation . \
    && /opt/handsup/bin/pip check \
    && /opt/handsup/bin/python -c "import uvicorn, websockets, asyncpg, redis, prometheus_client, wordcloud"

# --- run ----------------------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# The word-cloud renderer draws with DejaVu Sans, which matplotlib (a dependency of wordcloud) ships in its own
# package data: no system font packages are needed. Nothing else is installed: no compiler, no curl.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/handsup --shell /usr/sbin/nologin \
        handsup \
    && mkdir -p /data && chown handsup:handsup /data
COPY --from=build /opt/handsup /opt/handsup
WORKDIR /app
# Templates, static assets and example decks are read from the source tree beside the packages (server.ROOT).
COPY server ./server
COPY activities ./activities
COPY client ./client
COPY static ./static
COPY examples ./examples
ENV PATH=/opt/handsup/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HANDSUP_ENV=production \
    HANDSUP_HOST=0.0.0.0 \
    HANDSUP_PORT=8000 \
    HANDSUP_DATA_DIR=/data \
    HANDSUP_LOG_FORMAT=json
# The code belongs to root and is only read; the server's user owns nothing but /data and its home.
RUN python -m compileall -q /app/server /app/activities
USER handsup
# matplotlib's font list, built once here (into ~/.config/matplotlib) rather than at the first word cloud.
RUN python -c "import matplotlib.font_manager" && python -c "import server.app"
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; port=os.environ.get('HANDSUP_PORT','8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"]
# HANDSUP_SECRET_KEY has no default: in production the server refuses to start without one (docs/deploy.md).
# `handsup serve` runs uvicorn with the websockets-sansio backend (--ws auto), proxy headers from
# HANDSUP_FORWARDED_ALLOW_IPS, a 4096 backlog and no per-message deflate (server/cli.py).
CMD ["handsup", "serve"]
