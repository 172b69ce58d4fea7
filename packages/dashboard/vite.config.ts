import { defineConfig } from "vite";

// `npm run dev -w packages/dashboard` serves the dashboard with live reload and sends API calls to
// a running host (WEBJOBS_URL, default http://127.0.0.1:8080); the browser asks for its credentials.
const host = process.env.WEBJOBS_URL ?? "http://127.0.0.1:8080";
const proxied = { target: host, changeOrigin: true };

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", assetsDir: "assets" },
  server: { proxy: { "/api": proxied, "/vfs": proxied } },
});
