import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The build goes into the Python package; `goalpost serve` serves it at / with /app/assets/
// cached for a year (file names carry a content hash).
export default defineConfig({
  base: "/app/",
  plugins: [preact()],
  // `npm run dev`: the API of a `goalpost serve` on its default address
  server: { proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } } },
  build: {
    outDir: "../server/static/app",
    emptyOutDir: true,
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2020",
    cssCodeSplit: false,
    assetsInlineLimit: 0,
  },
});
