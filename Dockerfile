# One image for every Lanner service; docker-compose.yml picks the command.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm unzip curl procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md rxconfig.py ./
COPY engine engine
COPY studio studio
COPY assets assets
RUN pip install --no-cache-dir -e . && npm install --prefix .tools --no-audit --no-fund bun@1.4.4
ENV LANNER_HOME=/data
VOLUME /data
EXPOSE 3000
CMD ["lanner", "server", "--port", "3000"]
