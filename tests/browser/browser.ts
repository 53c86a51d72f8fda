/**
 * Browser test helper: launches the Debian `chromium` through `playwright-core` with a fresh profile, the flags
 * these machines need, and no network side traffic (no background networking, component updates, sync or QUIC).
 *
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian installs chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags of every launch. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * Makes sure chromium is installed: returns when {@linkcode CHROMIUM_PATH} exists; otherwise, when running as
 * root, installs it with `apt-get update && apt-get install -y chromium` (about 20 s).
 *
 * @throws {Error} when chromium is missing and cannot be installed
 */
export async function ensureChromium(): Promise<void> {
  try {
    await Deno.stat(CHROMIUM_PATH);
    return;
  } catch {
    // not installed yet
  }
  if (Deno.uid() !== 0) {
    throw new Error(`Cannot run browser tests: ${CHROMIUM_PATH} is missing; run apt-get install -y chromium as root`);
  }
  for (const args of [["update"], ["install", "-y", "chromium"]]) {
    const out = await new Deno.Command("apt-get", { args, stdout: "null", stderr: "piped" }).output();
    if (!out.success) {
      throw new Error(
        `Cannot install chromium: apt-get ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  }
}

/** A launched browser with a fresh profile. */
export interface TestBrowser {
  context: BrowserContext;
  /** A new page (tab). */
  newPage(): Promise<Page>;
  /** Closes the browser and deletes the profile. */
  close(): Promise<void>;
}

/**
 * Launches chromium headless with a fresh `--user-data-dir` (a temporary directory).
 *
 * @param options Viewport and colour scheme of the context.
 * @returns The browser; close it in a `finally`.
 */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number }; colorScheme?: "light" | "dark" } = {},
): Promise<TestBrowser> {
  await ensureChromium();
  const userDataDir = await Deno.makeTempDir({ prefix: "lws-chromium-" });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: options.viewport ?? { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? "light",
  });
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Directory of screenshots (git-ignored by deno.json's `exclude`; created on demand). */
export const SCREENSHOT_DIR = new URL("../out/", import.meta.url).pathname;

/**
 * Saves a full-page (or viewport) screenshot as `tests/out/<name>.png`.
 *
 * @param page The page.
 * @param name File name without extension.
 * @param fullPage Whole page rather than the viewport. Default false.
 * @returns The file path.
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}${name}.png`;
  await page.screenshot({ path, fullPage });
  return path;
}

/**
 * Collects the page's console errors and uncaught exceptions (CSP violations are console errors) from now on.
 *
 * @param page The page.
 * @returns The list, filled as they happen.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}
