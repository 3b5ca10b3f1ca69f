import { defineConfig } from 'vitest/config';

// `npm run test:tls`: testssl.sh against the shipped nginx configuration; minutes long, so not in `npm test`.
export default defineConfig({
  test: {
    include: ['test/deploy/**/*.tls.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
