import { defineConfig, type ProxyOptions } from "vite";

// `npm run dev -w packages/dashboard` serves the dashboard with live reload and sends API calls to
// a running host (WEBJOBS_URL, default http://127.0.0.1:8080); the browser asks for its credentials.
const host = process.env.WEBJOBS_URL ?? "http://127.0.0.1:8080";
const hostOrigin = new URL(host).origin;
const proxied: ProxyOptions = {
  target: host,
  changeOrigin: true,
  // The host refuses a state change whose Origin is not its own (cross-site protection), and the
  // pages served here send this dev server's origin (log in, run, deploy…): those are passed on as
  // the host's own. Any other origin (a page elsewhere posting here) is passed on as it is, and
  // refused by the host.
  configure: (proxy) => {
    proxy.on("proxyReq", (proxyReq, req) => {
      const origin = req.headers.origin;
      if (origin && req.headers.host && origin === `http://${req.headers.host}`) {
        proxyReq.setHeader("origin", hostOrigin);
      }
    });
  },
};

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", assetsDir: "assets" },
  server: { proxy: { "/api": proxied, "/vfs": proxied } },
});
