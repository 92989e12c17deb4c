import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The portal calls the API under /api on its own origin (see README: the deployed front
// routes /api/* to API Gateway, the local stack proxies it), so `npm run dev` proxies too.
export default defineConfig({
  plugins: [vue()],
  build: {
    // No inline script or style anywhere: the CSP is script-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': {
        target: process.env.ONESTOP_API_URL ?? 'http://127.0.0.1:8000',
        rewrite: (path) => path.replace(/^\/api/, ''),
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})
