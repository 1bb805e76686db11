// Builds the web application into ../static, which ships inside the Python package.
// Run scripts/build_web.sh (npm ci + this build + the source stamp), not this alone.
import react from "@vitejs/plugin-react";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

/** Files smaller than this are served as they are (compressing them gains nothing). */
const COMPRESS_ABOVE = 1024;

/**
 * Beside each built asset, its Brotli (.br) and gzip (.gz) copies at the highest levels:
 * compressed once at build time, served by cielo.web with Content-Encoding to a browser
 * that accepts them, never compressed per request.
 */
function precompress(outDir: string): Plugin {
  return {
    name: "cielo-precompress",
    apply: "build",
    closeBundle() {
      const assets = join(outDir, "assets");
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg|json)$/.test(name)) continue;
        const path = join(assets, name);
        const data = readFileSync(path);
        if (data.length < COMPRESS_ABOVE) continue;
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(data, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
            },
          }),
        );
        writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

const outDir = new URL("../static", import.meta.url).pathname;

export default defineConfig({
  plugins: [react(), precompress(outDir)],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` against a running `cielo serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:60610" },
  },
});
