# One image for every role; the role is chosen with --roles.
# re2 (linear-time $regex) is a native addon: when no prebuilt binary matches,
# npm builds it with node-gyp, which needs python3, make and g++. They stay in
# the build stage only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY . .
ENV NODE_ENV=production
ENTRYPOINT ["npx", "tsx", "bin/tally.ts", "start"]
