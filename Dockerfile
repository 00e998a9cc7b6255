# First draft: one image for every role; the role is chosen with --roles.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY . .
ENV NODE_ENV=production
ENTRYPOINT ["npx", "tsx", "bin/tally.ts", "start"]
