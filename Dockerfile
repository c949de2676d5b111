# incident-summarizer: the HTTP API (uvicorn, WEB_CONCURRENCY workers) as a non-root user.
#   docker build -t incident-summarizer .
#   docker run -p 8000:8000 -e CACHE_URL=redis://redis:6379/0 incident-summarizer
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROMPTS_DIR=/app/prompts \
    WEB_CONCURRENCY=2 \
    LOG_LEVEL=INFO

WORKDIR /app

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes, not when the code does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code, installed without dependencies (they are above): gives the `incident-summarizer` command too.
COPY README.md ./
COPY service ./service
COPY prompts ./prompts
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown app:app /app/data

USER app
# The default SQLite cache (CACHE_URL=sqlite:///./data/cache.sqlite3) lives here; use Redis with replicas.
VOLUME ["/app/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# `serve`: uvicorn with the connection limits of docs/deploy.md (a bound on each request head, idle
# connections, concurrency), WEB_CONCURRENCY workers, forwarded headers from FORWARDED_ALLOW_IPS only, and JSON
# logs on stderr (see service/logs.py).
CMD ["incident-summarizer", "serve", "--host", "0.0.0.0", "--port", "8000"]
