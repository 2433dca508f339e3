import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The dashboard (index.html) and GraphiQL (graphiql.html), built into dist/dashboard and served by the API itself:
 * every script, style and worker comes from our own origin, none from a CDN.
 */
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  // `npm run dev:dashboard`: the dashboard with hot reload, talking to an API started with `npm run dev`.
  server: {
    proxy: { '/graphql': { target: process.env.API_ORIGIN ?? 'http://127.0.0.1:4000', ws: true } },
  },
  build: {
    outDir: path.resolve(here, '../dist/dashboard'),
    // Not emptied first: servers already running (other tests', or yours during `npm start`) keep finding the
    // assets they were started with; names are content hashes, so a rebuild only adds what changed.
    emptyOutDir: false,
    // GraphiQL's editor (Monaco) is large by nature; it loads only on /graphql.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        dashboard: path.resolve(here, 'index.html'),
        graphiql: path.resolve(here, 'graphiql.html'),
      },
      onwarn(warning, warn) {
        // GraphiQL's packages mark modules "use no memo" for the React compiler; bundling drops the marker, harmlessly.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
