// unspin's page: send the text to /v1/detect and /v1/restore, then show it with the spun spans
// highlighted. User text only ever enters the page as text nodes (never as HTML).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("form");
  const textarea = $("text");
  const checkBtn = $("check");
  const errorBox = $("error");
  const result = $("result");
  const doc = $("doc");
  const tip = $("tip");
  const status = $("status");
  const showSpun = $("show-spun");
  const showRestored = $("show-restored");
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  let threshold = 0.5;
  let current = null; // { text, bytes, detect, restore }
  let view = "spun";
  let tipFor = null; // the mark whose tooltip is shown

  fetch("/healthz")
    .then((r) => (r.ok ? r.json() : null))
    .then((h) => {
      if (h && typeof h.threshold === "number") threshold = h.threshold;
    })
    .catch(() => {});

  const pct = (x) => {
    const p = 100 * x;
    if (p >= 10 || p === 0) return Math.round(p) + " %";
    if (p >= 1) return p.toFixed(1) + " %";
    return "< 1 %";
  };

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function post(path, body) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await r.json();
    } catch (_) {
      /* not JSON: reported below */
    }
    if (!r.ok) {
      throw new Error((data && data.error) || "the server answered " + r.status);
    }
    return data;
  }

  async function check() {
    const text = textarea.value;
    errorBox.hidden = true;
    if (!text.trim()) {
      showError("Paste or drop a text first.");
      textarea.focus();
      return;
    }
    checkBtn.disabled = true;
    checkBtn.textContent = "Checking…";
    try {
      const [detect, restore] = await Promise.all([
        post("/v1/detect", { text }),
        post("/v1/restore", { text }),
      ]);
      current = { text, bytes: encoder.encode(text), detect, restore };
      render();
      result.hidden = false;
      result.focus({ preventScroll: true });
      result.scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (e) {
      showError("Could not check the text: " + e.message);
    } finally {
      checkBtn.disabled = false;
      checkBtn.textContent = "Check text";
    }
  }

  // Byte offsets (the API's) to text: slice the UTF-8 bytes and decode.
  const slice = (a, b) => decoder.decode(current.bytes.subarray(a, b));

  function confidenceClass(s) {
    if (s.source === "fingerprint") return "fingerprint";
    if (s.confidence >= 0.8) return "conf-high";
    if (s.confidence >= 0.5) return "conf-mid";
    return "conf-low";
  }

  function renderDoc() {
    hideTip();
    doc.replaceChildren();
    const spans = current.restore.spans;
    let at = 0;
    spans.forEach((s, i) => {
      if (s.start > at) doc.append(slice(at, s.start));
      const m = document.createElement("mark");
      m.tabIndex = 0;
      m.dataset.i = String(i);
      m.setAttribute("aria-describedby", "tip");
      if (view === "spun") {
        m.className = confidenceClass(s);
        m.textContent = slice(s.start, s.end);
      } else {
        m.className = "restored";
        m.textContent = s.restored;
      }
      doc.append(m);
      at = s.end;
    });
    if (at < current.bytes.length) doc.append(slice(at, current.bytes.length));
    doc.dataset.view = view;
  }

  function renderGauge(score, above) {
    const fill = $("gauge-fill");
    const s = typeof score === "number" ? Math.min(1, Math.max(0, score)) : 0;
    fill.setAttribute("stroke-dasharray", (s * 100).toFixed(1) + " 100");
    fill.classList.toggle("bad", above);
    fill.classList.toggle("warn", !above && s >= threshold / 2);
    $("gauge-value").textContent = typeof score === "number" ? score.toFixed(2) : "–";
    const g = $("gauge");
    g.setAttribute("aria-valuenow", s.toFixed(2));
    g.setAttribute("aria-valuetext", s.toFixed(2) + (above ? ", at or above the threshold" : ", below the threshold"));
    // The threshold's tick across the arc (centre 100,100, radius 80).
    const a = Math.PI * (1 - threshold);
    const t = $("gauge-threshold");
    t.setAttribute("x1", (100 + 62 * Math.cos(a)).toFixed(1));
    t.setAttribute("y1", (100 - 62 * Math.sin(a)).toFixed(1));
    t.setAttribute("x2", (100 + 98 * Math.cos(a)).toFixed(1));
    t.setAttribute("y2", (100 - 98 * Math.sin(a)).toFixed(1));
  }

  function render() {
    const d = current.detect;
    const r = current.restore;
    renderGauge(d.score, typeof d.score === "number" && d.score >= threshold);
    const verdict = $("verdict");
    const sc = typeof d.score === "number" ? d.score.toFixed(2) : "–";
    const t = threshold.toFixed(2);
    const hits = (d.fingerprints || []).length;
    const byModel = typeof d.score === "number" && d.score >= threshold;
    if (byModel) {
      verdict.textContent = `Likely spun: score ${sc}, at or above the threshold ${t}`;
    } else if (hits > 0) {
      const phrases = hits === 1 ? "1 known tortured phrase" : `${hits} known tortured phrases`;
      verdict.textContent = `Likely spun: ${phrases} (model score ${sc}, threshold ${t})`;
    } else {
      verdict.textContent = `Not flagged: score ${sc}, below the threshold ${t}`;
    }
    verdict.className = "verdict " + (d.flagged ? "bad" : "good");
    const n = r.spans.length;
    const paragraphs = d.paragraphs.length;
    const flaggedParagraphs = d.paragraphs.filter((p) => p.score >= threshold).length;
    $("stats").textContent =
      `${n} ${n === 1 ? "phrase" : "phrases"} restored in ${r.words} words · estimated spin rate ${pct(r.spin_rate)}` +
      (paragraphs > 1 ? ` · ${flaggedParagraphs} of ${paragraphs} paragraphs flagged` : "");
    const fps = d.fingerprints || [];
    const list = $("fp-list");
    list.replaceChildren();
    fps.forEach((h) => {
      const li = document.createElement("li");
      const q = document.createElement("strong");
      q.textContent = h.matched;
      li.append(q, h.expected ? ` — the usual wording is “${h.expected}”` : " — a known tortured phrase");
      list.append(li);
    });
    $("fingerprints").hidden = fps.length === 0;
    setView("spun");
    status.textContent = "";
  }

  function setView(v) {
    view = v;
    showSpun.setAttribute("aria-pressed", String(v === "spun"));
    showRestored.setAttribute("aria-pressed", String(v === "restored"));
    renderDoc();
  }

  function tipContent(s) {
    const frag = document.createDocumentFragment();
    const line = (cls, text) => {
      const p = document.createElement("div");
      p.className = cls;
      p.textContent = text;
      return p;
    };
    if (view === "restored") {
      frag.append(line("orig", `was “${s.spun}”`));
      frag.append(line("meta", `restored with confidence ${pct(s.confidence)}`));
      return frag;
    }
    if (s.source === "fingerprint") {
      frag.append(line("orig", `known tortured phrase for “${s.restored}”`));
      frag.append(line("meta", "from the fingerprint list"));
      return frag;
    }
    frag.append(line("orig", `likely original: “${s.restored}” (${pct(s.confidence)})`));
    const alts = s.alternatives.filter((a) => a.text.toLowerCase() !== s.restored.toLowerCase());
    if (alts.length) {
      frag.append(line("meta", "alternatives:"));
      const ul = document.createElement("ul");
      ul.className = "alts";
      alts.slice(0, 5).forEach((a) => {
        const li = document.createElement("li");
        const asWritten = a.text.toLowerCase() === s.spun.toLowerCase() ? " (as written)" : "";
        li.textContent = `${a.text} ${pct(a.confidence)}${asWritten}`;
        ul.append(li);
      });
      frag.append(ul);
    }
    const odds = Math.pow(10, s.log_odds);
    const oddsText = odds >= 1000 ? "over 1000 to 1" : `${odds.toFixed(odds >= 10 ? 0 : 1)} to 1`;
    frag.append(line("meta", `odds the original was changed: ${oddsText}`));
    return frag;
  }

  function showTip(m) {
    const s = current && current.restore.spans[Number(m.dataset.i)];
    if (!s) return;
    tip.replaceChildren(tipContent(s));
    tip.hidden = false;
    tipFor = m;
    const r = m.getBoundingClientRect();
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let left = r.left + window.scrollX;
    left = Math.max(window.scrollX + 8, Math.min(left, window.scrollX + document.documentElement.clientWidth - w - 8));
    let top = r.bottom + window.scrollY + 8;
    if (r.bottom + h + 16 > window.innerHeight && r.top - h - 8 > 0) top = r.top + window.scrollY - h - 8;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function hideTip() {
    tip.hidden = true;
    tipFor = null;
  }

  doc.addEventListener("mouseover", (e) => {
    const m = e.target.closest("mark");
    if (m) showTip(m);
  });
  doc.addEventListener("mouseout", (e) => {
    const m = e.target.closest("mark");
    if (m && !m.contains(e.relatedTarget) && document.activeElement !== m) hideTip();
  });
  doc.addEventListener("focusin", (e) => {
    const m = e.target.closest("mark");
    if (m) showTip(m);
  });
  doc.addEventListener("focusout", hideTip);
  doc.addEventListener("click", (e) => {
    const m = e.target.closest("mark");
    if (m) showTip(m);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") hideTip();
  });
  window.addEventListener("resize", () => {
    if (tipFor) showTip(tipFor);
  });

  showSpun.addEventListener("click", () => setView("spun"));
  showRestored.addEventListener("click", () => setView("restored"));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    check();
  });
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      check();
    }
  });
  $("clear").addEventListener("click", () => {
    textarea.value = "";
    result.hidden = true;
    errorBox.hidden = true;
    current = null;
    textarea.focus();
  });

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain-HTTP pages on another host have no clipboard API: copy through a selection.
    const t = document.createElement("textarea");
    t.value = text;
    t.setAttribute("readonly", "");
    t.className = "visually-hidden";
    document.body.append(t);
    t.select();
    const ok = document.execCommand("copy");
    t.remove();
    if (!ok) throw new Error("the browser refused");
  }

  function download(name, type, content) {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  $("copy").addEventListener("click", async () => {
    if (!current) return;
    try {
      await copyText(current.restore.text);
      status.textContent = "Restored text copied.";
    } catch (e) {
      status.textContent = "Could not copy: " + e.message;
    }
  });
  $("download").addEventListener("click", () => {
    if (!current) return;
    download("restored.txt", "text/plain;charset=utf-8", current.restore.text);
    status.textContent = "Downloading restored.txt.";
  });
  $("download-json").addEventListener("click", () => {
    if (!current) return;
    const body = JSON.stringify({ detect: current.detect, restore: current.restore }, null, 2);
    download("unspin.json", "application/json", body);
    status.textContent = "Downloading unspin.json.";
  });

  async function loadFile(file) {
    if (!file) return;
    try {
      textarea.value = await file.text();
      check();
    } catch (e) {
      showError("Could not read " + file.name + ": " + e.message);
    }
  }

  $("file").addEventListener("change", (e) => {
    loadFile(e.target.files[0]);
    e.target.value = "";
  });
  const drop = $("drop");
  ["dragenter", "dragover"].forEach((t) =>
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add("dragging");
    })
  );
  ["dragleave", "dragend"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("dragging")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) loadFile(f);
    else if (e.dataTransfer) textarea.value = e.dataTransfer.getData("text/plain");
  });
  // A file dropped beside the box must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
})();
