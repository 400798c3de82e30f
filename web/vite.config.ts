import { defineConfig } from "vite";

// `npm run dev` proxies the APIs to a running `make run` (gateway on 8000).
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});
