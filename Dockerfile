# gmail-sync API and worker image. One image serves both; the command picks
# the process (docker-compose.yml runs src/api-main.ts and src/worker-main.ts).
# The command starts node directly, not through npm, so that SIGTERM from
# `docker stop` reaches the process and it drains before it exits.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 3000 9464
CMD ["node", "--import", "tsx", "src/api-main.ts"]
