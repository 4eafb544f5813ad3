// The web app's build: React with Vite, written to dist/web and served by the gateway at `/`.
// Every asset is emitted as a file (nothing inlined, no CDN), so the gateway's Content-Security-Policy
// can allow scripts and styles from itself only, and the app works without any other host.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Inline assets would need `data:` in the CSP; a file costs one request.
    assetsInlineLimit: 0,
    // The polyfill is a script of its own; every browser we support has modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
