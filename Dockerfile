# Builds the docuvault binary and the SPA into one small image.
FROM node:20-bookworm-slim AS spa
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM rust:1-bookworm AS server
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin docuvault

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/docuvault docuvault && mkdir -p /var/lib/docuvault && chown docuvault /var/lib/docuvault
COPY --from=server /src/target/release/docuvault /usr/local/bin/docuvault
COPY --from=spa /src/frontend/dist /usr/share/docuvault/spa
ENV SPA_DIR=/usr/share/docuvault/spa BIND_ADDR=0.0.0.0:8080 DOCUVAULT_MASTER_KEY_FILE=/var/lib/docuvault/master.key
USER docuvault
WORKDIR /var/lib/docuvault
ENTRYPOINT ["docuvault"]
