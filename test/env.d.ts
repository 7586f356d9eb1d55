declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("@cloudflare/vitest-plugin").D1Migration[];
  }
}

/** Vite's import.meta.glob, as the tests use it: files as text, loaded when the test module loads. */
interface ImportMeta {
  glob<T = unknown>(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, T>;
}
