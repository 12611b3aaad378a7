# The gateway as an image: `docker build -t openclaw .` — see deploy/compose.yaml for several replicas.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build && npm prune --omit=dev

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
