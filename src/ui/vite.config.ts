import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** For `vite` (development only): a running `kith serve` to send /api to, e.g. http://127.0.0.1:7700. */
const agent = process.env['KITH_AGENT'];

/**
 * The personal agent's web app: two pages (the app and the login page), built to dist/ui and
 * served by `kith serve` under a strict CSP, so nothing may be inlined into the HTML.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  plugins: [react()],
  logLevel: 'warn',
  clearScreen: false,
  // Development: the agent checks Host and Origin, so both are rewritten to name the agent itself.
  ...(agent
    ? {
        server: {
          host: '127.0.0.1',
          proxy: {
            '^/api/': {
              target: agent,
              changeOrigin: true,
              configure: (proxy) => proxy.on('proxyReq', (request) => request.hasHeader('origin') && request.setHeader('origin', agent)),
            },
          },
        },
      }
    : {}),
  build: {
    outDir: here('../../dist/ui'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The polyfill would be an inline <script>, which the CSP refuses.
    modulePreload: { polyfill: false },
    // Assets are always separate files: a data: URL for a script or style would break the CSP too.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: {
      input: { index: here('index.html'), login: here('login.html') },
      // React in one chunk, and what both pages share (session helpers, styles) in another.
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules/ },
            { name: 'shared', test: /[\\/]src[\\/]ui[\\/]/, minShareCount: 2 },
          ],
        },
      },
    },
  },
});
