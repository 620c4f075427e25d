// Browser tests of the console and the widget: Debian's chromium (no browser download) driven
// by Playwright against real Baton servers on loopback, each test file starting its own.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "./tests",
  testMatch: "*.spec.ts",
  // Screenshots of key steps, traces and failure pictures: artifacts, not committed.
  outputDir: "./test-results",
  globalSetup: "./tests/global-setup.ts",
  // One worker: the machine is small and shared, and every test drives a real server.
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
