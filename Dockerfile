# Production image: `ecif serve` under the waitress WSGI server.
# Build: docker build -t ecif .    Run: docker run -p 8000:8000 -e ECIF_DATABASE_URL=... ecif
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ECIF_CONFIG_DIR=/app/config \
    ECIF_DATA_DIR=/app/data

WORKDIR /app
RUN useradd --create-home --uid 10001 ecif

# Dependencies first, for layer caching.
COPY pyproject.toml README.md ./
COPY ecif ./ecif
COPY matching ./matching
COPY models ./models
COPY review_app ./review_app
RUN pip install .

COPY config ./config
RUN mkdir -p /app/data && chown ecif /app/data
USER ecif

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["ecif", "serve", "--host", "0.0.0.0", "--port", "8000"]
