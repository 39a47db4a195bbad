# syntax=docker/dockerfile:1
# The worker and API image: one image, started as either (see docker-compose.yml).
# Multi-stage: build (TypeScript, the workflow bundle) then a slim runtime as a non-root user.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# Compiled code for the start scripts, and the workflow bundle prebuilt so workers start without bundling.
RUN npm run build \
 && npm run build:workflows -- dist/workflow-bundle.js \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
# TLS to HeyGen and Temporal Cloud needs the CA bundle, which -slim images leave out.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    TEMPORAL_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    LOG_FORMAT=json \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/src/simulator/media ./dist/src/simulator/media
COPY --from=build --chown=node:node /app/src/api/review-page ./dist/src/api/review-page
# The video archive's mount point, owned by node so a new named volume mounted there is writable.
RUN mkdir -p /archive && chown node:node /archive
USER node
EXPOSE 3000
# node itself, not npm: SIGTERM must reach the process (run with an init: docker run --init, compose init: true).
CMD ["node", "dist/src/api/main.js"]
