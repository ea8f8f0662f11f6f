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

# The wheel carries the code, the default config (package ecif_config) and the sample
# (package ecif_sample), so `ecif demo` runs in the image as from any install.
COPY pyproject.toml setup.py README.md ./
COPY config ./config
COPY data/sample ./data/sample
COPY ecif ./ecif
COPY matching ./matching
COPY models ./models
COPY review_app ./review_app
RUN pip install . && rm -rf build

# /app/config: the operator's copy to edit (ECIF_CONFIG_DIR); /app/data: database, output.
RUN mkdir -p /app/data && chown ecif /app/data
USER ecif

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["ecif", "serve", "--host", "0.0.0.0", "--port", "8000"]
