// Builds the web application into ../static, which ships inside the Python package.
// Run scripts/build_web.sh (npm ci + this build + the source stamp), not this alone.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../static",
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
