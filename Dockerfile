# Handsup, production image: slim, non-root, data on a volume, healthcheck on /healthz.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY activities ./activities
RUN python -m venv /opt/handsup && /opt/handsup/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/handsup/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin handsup \
    && mkdir -p /data && chown handsup /data
COPY --from=build /opt/handsup /opt/handsup
WORKDIR /app
# Templates, static assets and example decks are read from the source tree beside the packages.
COPY --chown=handsup server ./server
COPY --chown=handsup activities ./activities
COPY --chown=handsup client ./client
COPY --chown=handsup static ./static
COPY --chown=handsup examples ./examples
ENV PATH=/opt/handsup/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    HANDSUP_ENV=production \
    HANDSUP_HOST=0.0.0.0 \
    HANDSUP_PORT=8000 \
    HANDSUP_DATA_DIR=/data
USER handsup
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os,sys,urllib.request; port=os.environ.get('HANDSUP_PORT','8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"
CMD ["python", "-m", "server.cli", "serve"]
