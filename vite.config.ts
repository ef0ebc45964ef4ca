import { defineConfig } from "vitest/config";

// The UI lives in ui/; Tauri serves ui/dist (see tauri.conf.json, build.frontendDist).
export default defineConfig({
  root: "ui",
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) is the oldest engine Quire runs in.
    target: "safari16",
  },
  test: {
    root: ".",
    include: ["ui/src/**/*.test.ts"],
    environment: "jsdom",
    setupFiles: ["ui/src/test-setup.ts"],
  },
});
