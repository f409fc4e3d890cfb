/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

// The gateway serves the build (web/dist) at /; in development the dev server proxies the
// API to a running `make up` gateway so the app is still same-origin (cookies, CSP).
const gateway = process.env.SOCIALSEED_GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    // No inline scripts or styles: the CSP forbids them.
    assetsInlineLimit: 0,
    sourcemap: false,
    // dist/.vite/manifest.json: each chunk's static and dynamic imports, for bench/web_budgets.py's
    // JavaScript per route.
    manifest: true,
  },
  server: { proxy: { "/api": gateway, "/.well-known": gateway } },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/testing/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
