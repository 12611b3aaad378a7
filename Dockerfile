# The gateway as an image: `docker build -t openclaw .` — see deploy/compose.yaml for several replicas.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
# npm ci builds (prepare: TypeScript and the dashboard), then the dev tools go.
RUN npm ci && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production OPENCLAW_STATE_DIR=/state
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /state && chown node:node /state
USER node
EXPOSE 18789
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["gateway", "--bind", "lan"]
