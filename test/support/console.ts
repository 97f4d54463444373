import { afterEach, beforeEach, vi } from "vitest";

/**
 * What console.log and console.error print during each test of the calling file, one string per
 * call (the CLI tests assert on it). Emptied before each test; clear it mid-test with
 * `out.length = 0`. The spies are restored after each test.
 */
export function captureConsole(): string[] {
  const out: string[] = [];
  beforeEach(() => {
    out.length = 0;
    const capture = (...a: unknown[]) => {
      out.push(a.join(" "));
    };
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return out;
}
