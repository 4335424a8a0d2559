# ogcrm API and worker image. Build: docker build -t ogcrm .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY ogcrm ./ogcrm
COPY plugins ./plugins
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OGCRM_DATA_DIR=/var/lib/ogcrm
RUN useradd --system --home-dir /var/lib/ogcrm --create-home ogcrm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER ogcrm
WORKDIR /var/lib/ogcrm
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["ogcrm", "serve", "--host", "0.0.0.0", "--port", "8000", "--upgrade"]
