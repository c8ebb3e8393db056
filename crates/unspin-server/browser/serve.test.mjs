// The page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// the real `unspin serve` on a free loopback port, the example paragraph pasted, highlights with
// the originals in their tooltips, keyboard focus, the restored text, contrast, no console
// errors; screenshots in target/test-artifacts/. Run by scripts/test.sh (`node --test`). It
// fails, never skips, when Chromium or the binary is missing.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = process.env.UNSPIN_BIN || join(root, "target/release/unspin");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = join(root, "target/test-artifacts");
const example = readFileSync(join(root, "examples/spun-news.txt"), "utf8");

let server;
let base;
let context;
let profile;

function startServer() {
  assert.ok(existsSync(bin), `${bin} is missing: build it with cargo build --release`);
  return new Promise((ok, fail) => {
    const list = join(root, "crates/unspin/tests/data/pps_sample.csv");
    const child = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--fingerprints", list], {
      env: { ...process.env, UNSPIN_PACK: join(root, "models/default.unspin") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m && !base) {
        base = m[1];
        ok(child);
      }
    });
    child.on("exit", (code) => fail(new Error(`unspin serve exited (${code}): ${err}`)));
  });
}

before(async () => {
  assert.ok(
    existsSync(browserPath),
    `${browserPath} is missing: install Debian's chromium (scripts/test.sh does)`
  );
  mkdirSync(artifacts, { recursive: true });
  server = await startServer();
  profile = mkdtempSync(join(tmpdir(), "unspin-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1100, height: 900 },
  });
});

after(async () => {
  if (context) await context.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.removeAllListeners("exit");
    server.kill("SIGTERM");
    const code = await exited;
    assert.equal(code, 0, "unspin serve did not exit cleanly on SIGTERM");
  }
});

async function api(path, body) {
  const r = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
  return r.json();
}

function contrast(fg, bg) {
  const lum = (c) => {
    const [r, g, b] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}

test("paste the example, see the highlights, the originals and the restored text", async () => {
  const expected = await api("/v1/restore", { text: example });
  assert.ok(expected.spans.length >= 2, "the example has spans to show");

  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(base + "/");
  assert.equal(await page.title(), "unspin — see what was spun");

  // Paste (a clipboard paste is what an editor does; fill() is its DOM equivalent) and check.
  await page.locator("#text").fill(example);
  await page.locator("#check").click();
  const marks = page.locator("#doc mark");
  await marks.first().waitFor({ timeout: 30000 });
  assert.equal(await marks.count(), expected.spans.length);

  // Every highlight is the spun text at its place, coloured by confidence, and its tooltip
  // names the likely original.
  for (let i = 0; i < expected.spans.length; i++) {
    const s = expected.spans[i];
    const m = marks.nth(i);
    assert.equal(await m.textContent(), s.spun);
    const cls = await m.getAttribute("class");
    const want = s.confidence >= 0.8 ? "conf-high" : s.confidence >= 0.5 ? "conf-mid" : "conf-low";
    assert.equal(cls, want, `span ${i} (${s.spun}, ${s.confidence})`);
    await m.hover();
    const tip = page.locator("#tip");
    await tip.waitFor({ state: "visible" });
    const t = await tip.textContent();
    assert.ok(t.includes(`likely original: “${s.restored}”`), `tooltip of ${s.spun}: ${t}`);
    const alt = s.alternatives.find((a) => a.text !== s.restored);
    if (alt) assert.ok(t.includes(alt.text), `tooltip of ${s.spun} lacks ${alt.text}: ${t}`);
  }
  const warfare = expected.spans.find((s) => s.spun === "warfare");
  assert.ok(warfare && warfare.restored === "war", "the example restores warfare → war");

  // The document text around the highlights is the input, unchanged.
  assert.equal(await page.locator("#doc").textContent(), example);

  // The gauge shows the detection score.
  const detect = await api("/v1/detect", { text: example });
  assert.equal(await page.locator("#gauge-value").textContent(), detect.score.toFixed(2));
  assert.equal(await page.locator("#gauge").getAttribute("aria-valuenow"), detect.score.toFixed(2));

  // Keyboard: Tab from the last toolbar button lands on the first highlight and shows its
  // tooltip, with a visible focus ring.
  await page.locator("#download-json").focus();
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => ({
    tag: document.activeElement.tagName,
    text: document.activeElement.textContent,
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  assert.deepEqual(
    [focused.tag, focused.text],
    ["MARK", expected.spans[0].spun],
    "Tab reaches the first highlight"
  );
  assert.notEqual(focused.outline, "none", "focus is visible");
  assert.ok(await page.locator("#tip").isVisible(), "focus shows the tooltip");
  await page.screenshot({ path: join(artifacts, "serve.png"), fullPage: true });

  // Contrast of highlighted text against its background (WCAG AA: 4.5:1).
  const colours = await page.$$eval("#doc mark, .verdict, .stats, .help, button", (els) =>
    els.map((e) => {
      const cs = getComputedStyle(e);
      let bg = cs.backgroundColor;
      for (let p = e; bg === "rgba(0, 0, 0, 0)" && p.parentElement; p = p.parentElement) {
        bg = getComputedStyle(p.parentElement).backgroundColor;
      }
      return { what: e.className || e.id || e.tagName, fg: cs.color, bg: bg === "rgba(0, 0, 0, 0)" ? "rgb(255, 255, 255)" : bg };
    })
  );
  for (const c of colours) {
    const ratio = contrast(c.fg, c.bg);
    assert.ok(ratio >= 4.5, `${c.what}: contrast ${ratio.toFixed(2)} (${c.fg} on ${c.bg})`);
  }

  // The toggle shows the restored text, its changes marked with what was there.
  await page.keyboard.press("Escape");
  await page.locator("#show-restored").click();
  assert.equal(await page.locator("#show-restored").getAttribute("aria-pressed"), "true");
  assert.equal(await page.locator("#doc").textContent(), expected.text);
  assert.ok(expected.text.includes("fled the war in Ukraine have been granted temporary visas"));
  const restoredMarks = page.locator("#doc mark.restored");
  assert.equal(await restoredMarks.count(), expected.spans.length);
  await restoredMarks.first().hover();
  assert.ok((await page.locator("#tip").textContent()).includes(`was “${expected.spans[0].spun}”`));
  await page.screenshot({ path: join(artifacts, "serve-restored.png"), fullPage: true });

  // The copy button puts the restored text on the clipboard.
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  await page.locator("#copy").click();
  await page.locator("#status", { hasText: "Restored text copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), expected.text);

  // The download button hands over the restored text.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#download").click(),
  ]);
  assert.equal(download.suggestedFilename(), "restored.txt");
  const file = join(profile, "restored.txt");
  await download.saveAs(file);
  assert.equal(readFileSync(file, "utf8"), expected.text);

  assert.deepEqual(problems, [], "no console errors (a CSP violation would show here)");
  await page.close();
});

test("usable at phone width, and errors are shown", async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/");
  await page.locator("#check").click();
  assert.ok(await page.locator("#error").isVisible(), "checking nothing says so");
  await page.locator("#text").fill(example);
  // Ctrl+Enter in the text box checks it, as the help line says.
  await page.locator("#text").press("Control+Enter");
  await page.locator("#doc mark").first().waitFor({ timeout: 30000 });
  assert.ok(await page.locator("#error").isHidden(), "the error went away");
  // Nothing wider than the screen: no sideways scrolling.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
  await page.locator("#doc mark").first().click();
  assert.ok(await page.locator("#tip").isVisible(), "a tap shows the tooltip");
  const box = await page.locator("#tip").boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `the tooltip fits: ${JSON.stringify(box)}`);
  for (const id of ["#check", "#show-restored", "#copy", "#download"]) {
    const b = await page.locator(id).boundingBox();
    assert.ok(b.height >= 44, `${id} is ${b.height}px tall: too small to tap`);
  }
  await page.screenshot({ path: join(artifacts, "serve-phone.png"), fullPage: true });
  await page.close();
});

test("open or drop a file; known tortured phrases are marked and listed", async () => {
  const paper = "We trained a sack of words model on records of patients with liver sickness.\n";
  const page = await context.newPage();
  await page.goto(base + "/");
  // Open a file: it is loaded and checked at once.
  await page.setInputFiles("#file", {
    name: "paper.txt",
    mimeType: "text/plain",
    buffer: Buffer.from(paper),
  });
  const fp = page.locator("#doc mark.fingerprint");
  await fp.first().waitFor({ timeout: 30000 });
  assert.equal(await page.locator("#text").inputValue(), paper);
  assert.deepEqual(await fp.allTextContents(), ["sack of words", "liver sickness"]);
  await fp.first().focus();
  assert.ok((await page.locator("#tip").textContent()).includes("known tortured phrase for “bag of words”"));
  assert.ok(await page.locator("#fingerprints").isVisible());
  const listed = await page.locator("#fp-list").textContent();
  assert.ok(listed.includes("bag of words") && listed.includes("liver disease"), listed);
  const verdict = await page.locator("#verdict").textContent();
  assert.ok(verdict.startsWith("Likely spun: 2 known tortured phrases"), `a hit flags the text: ${verdict}`);
  await page.screenshot({ path: join(artifacts, "serve-fingerprints.png"), fullPage: true });

  // Drop a file on the text box: it replaces the text and is checked.
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "news.txt", { type: "text/plain" }));
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, example);
  await page.waitForFunction(() => document.querySelectorAll("#doc mark.fingerprint").length === 0);
  await page.locator("#doc mark").first().waitFor();
  assert.equal(await page.locator("#text").inputValue(), example);
  assert.ok(await page.locator("#fingerprints").isHidden());
  await page.close();
});
