import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The build goes into the Python package; `goalpost serve` serves it at / with /app/assets/
// cached for a year (file names carry a content hash).
export default defineConfig({
  base: "/app/",
  plugins: [preact()],
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
