/* sigharness report: the matrix (virtualized: only the rows in view are in the DOM), filters kept in the
   URL fragment, the drill-down built on click, CSV / JSON export of the current view.
   Every text from the results goes through textContent or esc(); nothing from the data is ever code. */
(function () {
  "use strict";

  var D = JSON.parse(document.getElementById("sh-data").textContent);
  var X = null; // drill-down details: parsed on first use
  function details() {
    if (X === null) X = JSON.parse(document.getElementById("sh-detail").textContent);
    return X;
  }

  var STATUS_OF = D.letters; // letter -> verdict, from harness/verdicts.py
  var SYM = D.symbols;
  var A = D.adapters, C = D.cases, ROWS = D.rows;
  var STAGE_TITLE = { canonical_request: "canonical request", string_to_sign: "string to sign", signature: "signature", signed_request: "signed request",
    policy_document: "POST policy document", form_fields: "form fields", token: "token", form: "form" };
  var RH = 28; // row height, px (matches --rh)

  // ------------------------------------------------------------------ helpers
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (ch) { return ESC[ch]; }); }
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      for (var k in props) {
        var v = props[k];
        if (v == null || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(el, k); }); return; }
    el.append(kid instanceof Node ? kid : String(kid));
  }
  function chip(status, extra) {
    return h("span", { class: "chip st-" + status }, h("span", { "aria-hidden": "true" }, SYM[status] || "?"), " " + (status === "missing" ? "not run" : status) + (extra || ""));
  }
  function uniq(list) { var seen = new Set(); return list.filter(function (x) { if (seen.has(x)) return false; seen.add(x); return true; }); }
  function S(i) { return i == null || i < 0 ? null : details().S[i]; }
  // One drill-down cell, from its positional form (harness/report/model.py) to named fields.
  function cellDetail(r, ai) {
    var X = details(), c = X.cells[r][ai];
    if (!c) return {};
    var d = { stage: c[0] == null ? null : X.stages[c[0]], es: c[1], ms: c[2], ns: c[3], h: c[7], dec: c[8] };
    d.st = (c[4] || []).map(function (s) { return [X.stages[s[0]]].concat(s.slice(1)); });
    var v = c[5], g = c[6];
    if (v) d.ver = { valid: v[0], reason: v[1], rules: v[2], cr: v[3], changes: v[4] || [], exp: v[5] === undefined ? -1 : v[5] };
    if (g) {
      var hs = [];
      for (var i = 0; i + 1 < g[2].length; i += 2) hs.push([g[2][i], g[2][i + 1]]);
      d.sig = { m: g[0], u: g[1], h: hs, b: g[3] };
    }
    return d;
  }
  function pct(x) { return x == null ? "—" : (x >= 0.995 && x < 1 ? "99%" : Math.round(x * 100) + "%"); }
  function shq(s) { s = String(s); return /^[A-Za-z0-9_\/.@%+=:,-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }
  function byId(id) { return document.getElementById(id); }

  var LANGS = uniq(A.map(function (a) { return a.lang; }));
  var MODES = uniq(ROWS.map(function (r) { return r[1]; }));

  // ------------------------------------------------------------------ state <-> URL fragment
  var state = { s: new Set(), m: new Set(), g: new Set(), a: new Set(), l: new Set(), t: new Set(), tp: new Set(), q: "", d: false, compact: false, open: null };
  var KEYS = { s: D.statuses.concat(["missing"]), m: MODES, g: ["all", "some", "none", "na"], a: A.map(function (a) { return a.k; }), l: LANGS, t: D.tags, tp: D.topics };

  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(KEYS).forEach(function (k) {
      var allowed = new Set(KEYS[k]);
      state[k] = new Set(p.getAll(k).filter(function (v) { return allowed.has(v); }));
    });
    state.q = p.get("q") || "";
    state.d = p.get("d") === "1";
    state.compact = p.get("hd") === "1";
    var oc = p.get("oc"), om = p.get("om"), oa = p.get("oa");
    state.open = oc ? { c: oc, m: om || "", a: oa || "" } : null;
  }
  function hashString() {
    var p = new URLSearchParams();
    ["s", "m", "g", "l", "a", "tp", "t"].forEach(function (k) { state[k].forEach(function (v) { p.append(k, v); }); });
    if (state.q) p.set("q", state.q);
    if (state.d) p.set("d", "1");
    if (state.compact) p.set("hd", "1");
    if (state.open) { p.set("oc", state.open.c); p.set("om", state.open.m); if (state.open.a) p.set("oa", state.open.a); }
    return p.toString();
  }
  var writing = false;
  function writeHash() {
    var s = hashString();
    if (location.hash.replace(/^#/, "") === s) return;
    writing = true;
    try { history.replaceState(null, "", s ? "#" + s : location.pathname + location.search); }
    catch (e) { location.replace("#" + s); }
    writing = false;
  }

  // ------------------------------------------------------------------ the view: which rows and columns
  function divText(code) { return (D.divergences || {})[code] || ["", ""]; }  // [title, meaning] from the catalogue
  var view = { cols: [], items: [], rows: 0, cases: 0 };
  var hay = null;
  function haystack(r) {
    if (hay === null) {
      hay = ROWS.map(function (row, ri) {
        var c = C[row[0]];
        var parts = [c.id, c.title, c.note, D.topics[c.topic], row[1], c.algo, c.svc, c.region, c.div ? c.div + " " + divText(c.div)[0] : "", (c.open || []).join(" "), c.err || "", c.req.u || "", c.req.m || ""];
        c.tags.forEach(function (t) { parts.push(D.tags[t]); });
        (c.req.h || []).forEach(function (hv) { parts.push(hv[0] + ": " + hv[1]); });
        D.rr[ri].forEach(function (x) { if (x) parts.push(D.reasons[x]); });
        return parts.join("\n").toLowerCase();
      });
    }
    return hay[r];
  }
  function computeView() {
    var cols = [];
    A.forEach(function (a, i) {
      if (state.a.size && !state.a.has(a.k)) return;
      if (state.l.size && !state.l.has(a.lang)) return;
      cols.push(i);
    });
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var items = [], lastTopic = -1, group = null, cases = new Set(), groupCases = null;
    for (var r = 0; r < ROWS.length; r++) {
      var row = ROWS[r], c = C[row[0]], letters = row[2];
      if (state.m.size && !state.m.has(row[1])) continue;
      if (state.tp.size && !state.tp.has(D.topics[c.topic])) continue;
      if (state.t.size && !c.tags.some(function (t) { return state.t.has(D.tags[t]); })) continue;
      if (terms.length) {
        var text = haystack(r);
        if (!terms.every(function (t) { return text.indexOf(t) >= 0; })) continue;
      }
      var any = state.s.size === 0, passed = 0, ran = 0, kinds = new Set();
      for (var j = 0; j < cols.length; j++) {
        var L = letters[cols[j]];
        if (!any && state.s.has(STATUS_OF[L])) any = true;
        if (L !== "." && L !== "u") { ran++; if (L === "p") passed++; kinds.add(L); }
      }
      if (!any) continue;
      if (state.d && kinds.size < 2) continue;
      var ag = ran === 0 ? "na" : passed === ran ? "all" : passed === 0 ? "none" : "some";
      if (state.g.size && !state.g.has(ag)) continue;
      if (c.topic !== lastTopic) {
        group = { g: c.topic, rows: 0, cases: 0 };
        groupCases = new Set();
        items.push(group);
        lastTopic = c.topic;
      }
      group.rows++;
      if (!groupCases.has(row[0])) { groupCases.add(row[0]); group.cases++; }
      cases.add(row[0]);
      items.push({ r: r, ag: ag, passed: passed, ran: ran });
    }
    view.cols = cols;
    view.items = items;
    view.rows = items.length - items.filter(function (it) { return it.g != null; }).length;
    view.cases = cases.size;
  }

  // ------------------------------------------------------------------ the matrix
  var grid = byId("grid"), ghead = byId("ghead"), gbody = byId("gbody");
  var active = { i: -1, col: 0 }; // item index (a row item) and column (0 = case, 1.. = view.cols[col-1])
  var lastRange = "";

  function leftWidth() {
    var cs = getComputedStyle(document.documentElement);
    return ["--case-w", "--mode-w", "--agree-w"].reduce(function (s, v) { return s + parseFloat(cs.getPropertyValue(v)); }, 0);
  }
  function cellW() { return parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--cw")) || 46; }

  function renderHead() {
    var cols = view.cols, html = [];
    var groups = [];
    cols.forEach(function (i) {
      var lang = A[i].lang;
      if (!groups.length || groups[groups.length - 1].lang !== lang) groups.push({ lang: lang, n: 0 });
      groups[groups.length - 1].n++;
    });
    html.push('<div class="hr" role="row"><div class="hl cols"><span class="lc lc-case" role="columnheader">case</span><span class="lc lc-mode" role="columnheader">mode</span>' +
      '<span class="lc lc-agree" role="columnheader" title="how many of the shown adapters that ran the check pass it">passed by</span></div>');
    groups.forEach(function (g) {
      html.push('<div class="hc lang" role="columnheader" aria-colspan="' + g.n + '" style="width:calc(var(--cw) * ' + g.n + ')" title="' + esc(g.lang) + '">' + esc(g.lang) + "</div>");
    });
    html.push("</div>");
    function row(label, cls, fn, detail) {
      var left = esc(label);
      if (label === "adapter") {
        left = '<span class="mini-legend" aria-hidden="true">' + D.statuses.concat(["missing"]).map(function (s) {
          return '<span class="st-' + s + '">' + SYM[s] + "</span> " + (s === "missing" ? "not run" : s);
        }).join(" ") + "</span>" + left;
      }
      html.push('<div class="hr' + (detail ? " detail" : "") + '" role="row"><div class="hl" role="columnheader">' + left + "</div>");
      cols.forEach(function (i) { html.push(fn(A[i], i)); });
      html.push("</div>");
    }
    row("adapter", "", function (a) {
      var at = a.k.lastIndexOf("@"), label = at > 0 && a.k.slice(0, at) === a.name ? '<span>' + esc(a.name) + '</span><span class="at">@' + esc(a.k.slice(at + 1)) + "</span>" : "<span>" + esc(a.k) + "</span>";
      return '<div class="hc vert name' + (a.avail ? "" : " unavail") + '" role="columnheader" title="' + esc(a.k + (a.avail ? "" : " — unavailable: " + a.why)) + '">' + label + "</div>";
    });
    row("library · version · runtime", "", function (a) {
      return '<div class="hc vert det" role="columnheader" title="' + esc(a.lib + " " + a.ver + " — " + (a.rt || "runtime unknown")) + '"><span class="lib">' + esc(a.lib) +
        '</span><span class="ver">' + esc(a.ver) + '</span><span class="rt">' + esc(a.rts) + "</span></div>";
    }, true);
    row("score", "", function (a) {
      var t = a.tally;
      return '<div class="hc sc" role="columnheader" title="' + esc(a.k + ": score " + pct(t.score) + " — pass " + t.pass + ", variant " + t.variant + ", fail " + t.fail + ", error " + t.error + ", unsupported " + t.unsupported) + '">' + esc(a.avail ? pct(t.score) : "n/a") + "</div>";
    });
    ghead.innerHTML = html.join("");
    grid.classList.toggle("compact", state.compact);
    grid.setAttribute("aria-colcount", String(cols.length + 3));
    grid.setAttribute("aria-rowcount", String(view.items.length));
  }

  function headHeight() { return ghead.offsetHeight; }

  function renderBody(force) {
    var items = view.items, cols = view.cols;
    gbody.style.height = items.length * RH + "px";
    var top = grid.scrollTop, visible = Math.max(grid.clientHeight - headHeight(), RH);
    var first = Math.max(0, Math.floor(top / RH) - 8);
    var last = Math.min(items.length, Math.ceil((top + visible) / RH) + 8);
    var key = first + ":" + last + ":" + active.i + ":" + active.col;
    if (!force && key === lastRange) return;
    lastRange = key;
    var html = [], openKey = state.open ? state.open.c + "\u0000" + state.open.m + "\u0000" + state.open.a : "";
    for (var i = first; i < last; i++) {
      var it = items[i];
      var y = i * RH;
      if (it.g != null) {
        html.push('<div class="g" role="row" aria-rowindex="' + (i + 1) + '" style="top:' + y + 'px"><div class="gl" role="rowheader">' + esc(D.topics[it.g]) +
          ' <span class="n">' + it.cases + (it.cases === 1 ? " case" : " cases") + ", " + it.rows + (it.rows === 1 ? " check" : " checks") + "</span></div></div>");
        continue;
      }
      var row = ROWS[it.r], c = C[row[0]], letters = row[2], rr = D.rr[it.r];
      var prev = i > 0 ? items[i - 1] : null;
      var cont = prev && prev.r != null && ROWS[prev.r][0] === row[0];
      var changed = D.lastChange && D.lastChange[it.r] && D.lastChange[it.r] === D.latestHistory;
      var caseSel = state.open && !state.open.a && state.open.c === c.id && state.open.m === row[1];
      html.push('<div class="r" role="row" aria-rowindex="' + (i + 1) + '" style="top:' + y + 'px" data-i="' + i + '">');
      html.push('<div class="h' + (caseSel ? " sel" : "") + '" role="rowheader" data-col="0" tabindex="' + (active.i === i && active.col === 0 ? "0" : "-1") +
        '" title="' + esc(c.title + " — " + c.id + " (" + row[1] + " mode). Enter: every adapter on this check") + '">' +
        (changed ? '<span class="delta" title="a verdict changed in the latest recorded run">Δ<span class="sr"> changed in the latest run</span></span>' : "") +
        '<span class="cid' + (cont ? " cont" : "") + '">' + esc(c.id) + "</span></div>");
      html.push('<div class="mode" role="gridcell">' + esc(row[1]) + "</div>");
      var agTitle = it.ran ? it.passed + " of the " + it.ran + " shown adapters that ran this check pass it (" + it.ag + ")" : "no shown adapter ran this check";
      var agSym = it.ag === "all" ? "●" : it.ag === "none" ? "○" : it.ag === "some" ? "◐" : "·";
      html.push('<div class="agree ' + (it.ag === "na" ? "na" : it.ag) + '" role="gridcell" title="' + esc(agTitle) + '"><span aria-hidden="true">' + agSym + "</span>" + (it.ran ? it.passed + "/" + it.ran : "—") + '<span class="sr"> ' + it.ag + "</span></div>");
      for (var j = 0; j < cols.length; j++) {
        var ai = cols[j], st = STATUS_OF[letters[ai]] || D.order[D.order.length - 1], a = A[ai];
        var dim = state.s.size && !state.s.has(st);
        var sel = openKey && openKey === c.id + "\u0000" + row[1] + "\u0000" + a.k;
        var reason = rr[ai] ? D.reasons[rr[ai]] : "";
        var tip = a.k + " · " + row[1] + " · " + (st === "missing" ? (a.avail ? "not run" : "unavailable: " + a.why) : st) + (reason ? ": " + reason : "");
        html.push('<div class="c st-' + st + (dim ? " dim" : "") + (sel ? " sel" : "") + '" role="gridcell" data-col="' + (j + 1) + '" tabindex="' +
          (active.i === i && active.col === j + 1 ? "0" : "-1") + '" title="' + esc(tip) + '"><span aria-hidden="true">' + SYM[st] + '</span><span class="sr">' + st + "</span></div>");
      }
      html.push("</div>");
    }
    gbody.innerHTML = html.join("");
    var activeRendered = active.i >= first && active.i < last;
    grid.setAttribute("tabindex", activeRendered ? "-1" : "0");
  }

  var rafPending = false;
  grid.addEventListener("scroll", function () {
    if (rafPending) return;
    rafPending = true;
    requestAnimationFrame(function () { rafPending = false; renderBody(false); });
  });
  window.addEventListener("resize", function () { renderBody(true); });

  function firstRowItem() { for (var i = 0; i < view.items.length; i++) if (view.items[i].r != null) return i; return -1; }
  function stepRow(i, delta) {
    var n = view.items.length, j = i;
    var steps = Math.abs(delta), dir = delta > 0 ? 1 : -1, moved = i;
    while (steps > 0) {
      j += dir;
      if (j < 0 || j >= n) break;
      if (view.items[j].r != null) { moved = j; steps--; }
    }
    return moved;
  }
  function scrollToItem(i, col) {
    var y = i * RH, visible = grid.clientHeight - headHeight();
    if (y < grid.scrollTop) grid.scrollTop = y;
    else if (y + RH > grid.scrollTop + visible) grid.scrollTop = y + RH - visible;
    if (col > 0) {
      var lw = leftWidth(), cw = cellW(), x = lw + (col - 1) * cw;
      if (x < grid.scrollLeft + lw) grid.scrollLeft = x - lw;
      else if (x + cw > grid.scrollLeft + grid.clientWidth) grid.scrollLeft = x + cw - grid.clientWidth;
    } else {
      grid.scrollLeft = 0;
    }
  }
  function focusActive() {
    if (active.i < 0) return;
    scrollToItem(active.i, active.col);
    renderBody(true);
    var rowEl = gbody.querySelector('.r[data-i="' + active.i + '"]');
    var cell = rowEl && rowEl.querySelector('[data-col="' + active.col + '"]');
    if (cell) cell.focus({ preventScroll: true });
  }
  function setActive(i, col, focus) {
    active.i = i;
    active.col = Math.max(0, Math.min(col, view.cols.length));
    if (focus) focusActive(); else renderBody(true);
  }

  grid.addEventListener("focus", function (ev) {
    if (ev.target !== grid) return;
    if (active.i < 0 || active.i >= view.items.length || view.items[active.i].r == null) active = { i: firstRowItem(), col: 0 };
    focusActive();
  });
  gbody.addEventListener("keydown", function (ev) {
    if (active.i < 0) return;
    var page = Math.max(1, Math.floor((grid.clientHeight - headHeight()) / RH) - 1);
    var i = active.i, col = active.col, handled = true;
    switch (ev.key) {
      case "ArrowDown": i = stepRow(i, 1); break;
      case "ArrowUp": i = stepRow(i, -1); break;
      case "PageDown": i = stepRow(i, page); break;
      case "PageUp": i = stepRow(i, -page); break;
      case "ArrowRight": col = Math.min(col + 1, view.cols.length); break;
      case "ArrowLeft": col = Math.max(col - 1, 0); break;
      case "Home": if (ev.ctrlKey) i = firstRowItem(); col = 0; break;
      case "End": if (ev.ctrlKey) i = stepRow(view.items.length, -1); col = view.cols.length; break;
      case "Enter": case " ": openActive(); break;
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); if (ev.key !== "Enter" && ev.key !== " ") setActive(i, col, true); }
  });
  gbody.addEventListener("click", function (ev) {
    var cell = ev.target.closest(".c, .h");
    if (!cell) return;
    var rowEl = cell.closest(".r");
    active.i = Number(rowEl.getAttribute("data-i"));
    active.col = Number(cell.getAttribute("data-col"));
    openActive();
  });
  function openActive() {
    var it = view.items[active.i];
    if (!it || it.r == null) return;
    var row = ROWS[it.r], c = C[row[0]];
    if (active.col === 0) { state.open = { c: c.id, m: row[1], a: "" }; }
    else {
      var a = A[view.cols[active.col - 1]];
      if (row[2][view.cols[active.col - 1]] === ".") return;
      state.open = { c: c.id, m: row[1], a: a.k };
    }
    writeHash();
    showDrawer(true);
  }

  // ------------------------------------------------------------------ toolbar
  var counts = {};
  D.statuses.concat(["missing"]).forEach(function (s) { counts[s] = 0; });
  ROWS.forEach(function (r) { for (var k = 0; k < r[2].length; k++) counts[STATUS_OF[r[2][k]]]++; });

  function toggleButtons(containerId, key, values, label) {
    var box = byId(containerId);
    values.forEach(function (v) {
      var b = h("button", { type: "button", "aria-pressed": "false", "data-v": v, class: key === "s" ? "st-btn" : null }, label(v));
      b.addEventListener("click", function () {
        if (state[key].has(v)) state[key].delete(v); else state[key].add(v);
        update(true);
      });
      box.append(b);
    });
  }
  toggleButtons("f-status", "s", D.statuses.concat(counts.missing ? ["missing"] : []), function (s) {
    return [h("span", { "aria-hidden": "true", class: "st-" + s, style: "background:none" }, SYM[s]), " " + (s === "missing" ? "not run" : s) + " ", h("span", { class: "n" }, String(counts[s]))];
  });
  toggleButtons("f-mode", "m", MODES, function (m) { return m; });
  toggleButtons("f-agree", "g", ["all", "some", "none"], function (g) { return g; });
  byId("f-agree").title = "how many of the shown adapters that ran a check pass it";

  function pickList(id, key, values, label) {
    var box = byId(id).querySelector(".pick-list");
    var clear = h("button", { type: "button" }, "Show all");
    clear.addEventListener("click", function () { state[key].clear(); update(true); });
    box.append(h("div", { class: "pick-all" }, clear));
    values.forEach(function (v) {
      var input = h("input", { type: "checkbox", value: v });
      input.addEventListener("change", function () {
        if (input.checked) state[key].add(v); else state[key].delete(v);
        update(true);
      });
      box.append(h("label", null, input, " ", label(v)));
    });
  }
  pickList("p-lang", "l", LANGS, function (l) { return l + " (" + A.filter(function (a) { return a.lang === l; }).length + ")"; });
  pickList("p-adapter", "a", A.map(function (a) { return a.k; }), function (k) {
    var a = A.filter(function (x) { return x.k === k; })[0];
    return k + " — " + a.lib + " " + a.ver;
  });
  var pt = byId("p-tag").querySelector(".pick-list");
  pickList("p-tag", "t", D.tags, function (t) { return t; });
  if (D.topics.length > 1) {
    pt.append(h("div", { class: "muted", style: "margin-top:6px" }, "Topics"));
    D.topics.forEach(function (tp) {
      var input = h("input", { type: "checkbox", value: tp, "data-topic": "1" });
      input.addEventListener("change", function () { if (input.checked) state.tp.add(tp); else state.tp.delete(tp); update(true); });
      pt.append(h("label", null, input, " ", tp + "/"));
    });
  }
  document.querySelectorAll(".pick").forEach(function (d) {
    d.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { d.open = false; d.querySelector("summary").focus(); ev.stopPropagation(); } });
  });
  document.addEventListener("click", function (ev) {
    document.querySelectorAll(".pick[open]").forEach(function (d) { if (!d.contains(ev.target)) d.open = false; });
  });

  var qInput = byId("f-q"), qTimer = null;
  qInput.addEventListener("input", function () {
    clearTimeout(qTimer);
    qTimer = setTimeout(function () { state.q = qInput.value.trim(); update(true); }, 120);
  });
  byId("f-disagree").addEventListener("change", function (ev) { state.d = ev.target.checked; update(true); });
  function resetFilters() {
    ["s", "m", "g", "a", "l", "t", "tp"].forEach(function (k) { state[k].clear(); });
    state.q = ""; state.d = false;
    update(true);
  }
  byId("b-reset").addEventListener("click", resetFilters);
  byId("b-reset2").addEventListener("click", resetFilters);
  byId("b-details").addEventListener("click", function () { state.compact = !state.compact; update(true); });
  byId("b-csv").addEventListener("click", function () { download("sigharness-view.csv", "text/csv", viewCSV()); });
  byId("b-json").addEventListener("click", function () { download("sigharness-view.json", "application/json", viewJSON()); });
  byId("b-link").addEventListener("click", function (ev) { copyText(location.href, ev.currentTarget, "Link copied"); });
  document.querySelectorAll("[data-jump]").forEach(function (b) {
    b.addEventListener("click", function () {
      var target = byId(b.getAttribute("data-jump"));
      target.scrollIntoView({ block: "start" });
      var heading = target.querySelector("h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
    });
  });
  document.querySelectorAll("[data-topic]").forEach(function (b) {
    if (b.tagName !== "BUTTON") return;
    b.addEventListener("click", function () {
      state.tp = new Set([b.getAttribute("data-topic")]);
      update(true);
      byId("sec-matrix").scrollIntoView({ block: "start" });
    });
  });

  function syncControls() {
    document.querySelectorAll("#f-status button, #f-mode button, #f-agree button").forEach(function (b) {
      var key = b.parentNode.id === "f-status" ? "s" : b.parentNode.id === "f-mode" ? "m" : "g";
      b.setAttribute("aria-pressed", state[key].has(b.getAttribute("data-v")) ? "true" : "false");
    });
    [["p-lang", "l"], ["p-adapter", "a"], ["p-tag", "t"]].forEach(function (pair) {
      var box = byId(pair[0]);
      box.querySelectorAll("input[type=checkbox]").forEach(function (input) {
        input.checked = input.hasAttribute("data-topic") ? state.tp.has(input.value) : state[pair[1]].has(input.value);
      });
      var n = state[pair[1]].size + (pair[0] === "p-tag" ? state.tp.size : 0);
      box.querySelector("summary .n").textContent = n ? "(" + n + ")" : "";
    });
    if (qInput.value.trim() !== state.q) qInput.value = state.q;
    byId("f-disagree").checked = state.d;
    byId("b-details").setAttribute("aria-pressed", state.compact ? "false" : "true");
  }

  function update(fromUser) {
    computeView();
    syncControls();
    renderHead();
    if (active.i >= view.items.length || (active.i >= 0 && view.items[active.i].r == null)) active = { i: firstRowItem(), col: 0 };
    if (active.i < 0) active.i = firstRowItem();
    if (fromUser) grid.scrollTop = 0;
    lastRange = "";
    renderBody(true);
    byId("empty").hidden = view.rows > 0;
    byId("shown").textContent = "Showing " + view.rows + " of " + ROWS.length + " checks (" + view.cases + " cases) × " + view.cols.length + " of " + A.length + " adapters";
    if (fromUser) writeHash();
  }

  // ------------------------------------------------------------------ export
  function viewRecords() {
    var out = [];
    view.items.forEach(function (it) {
      if (it.r == null) return;
      var row = ROWS[it.r], c = C[row[0]];
      view.cols.forEach(function (ai) {
        var st = STATUS_OF[row[2][ai]];
        if (state.s.size && !state.s.has(st)) return;
        var a = A[ai];
        out.push({ case: c.id, mode: row[1], topic: D.topics[c.topic], adapter: a.k, language: a.lang, library: a.lib, library_version: a.ver,
          status: st, reason: D.rr[it.r][ai] ? D.reasons[D.rr[it.r][ai]] : "" });
      });
    });
    return out;
  }
  function csvField(v) {
    var s = String(v == null ? "" : v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s; // no formulas when opened in a spreadsheet
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function viewCSV() {
    var cols = ["case", "mode", "topic", "adapter", "language", "library", "library_version", "status", "reason"];
    return [cols.join(",")].concat(viewRecords().map(function (r) { return cols.map(function (k) { return csvField(r[k]); }).join(","); })).join("\r\n") + "\r\n";
  }
  function viewJSON() {
    return JSON.stringify({ report: document.title, view: hashString(), checks: viewRecords() }, null, 1);
  }
  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type + ";charset=utf-8" }));
    var a = h("a", { href: url, download: name, style: "display:none" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 2000);
  }
  function copyText(text, button, done) {
    function fallback() {
      var ta = h("textarea", { style: "position:fixed;left:-9999px" });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      try { document.execCommand("copy"); } catch (e) { /* nothing else to try */ }
      ta.remove();
    }
    var old = button.textContent;
    function feedback() { button.textContent = done; setTimeout(function () { button.textContent = old; }, 1500); }
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(feedback, function () { fallback(); feedback(); });
    else { fallback(); feedback(); }
  }

  // ------------------------------------------------------------------ drill-down
  var drawer = byId("drawer"), drBody = byId("dr-body"), drTitle = byId("dr-title");
  var returnFocus = null;

  function findRow(caseId, mode) {
    for (var r = 0; r < ROWS.length; r++) if (C[ROWS[r][0]].id === caseId && ROWS[r][1] === mode) return r;
    return -1;
  }
  function showDrawer(focus) {
    if (!state.open) { drawer.hidden = true; return; }
    var r = findRow(state.open.c, state.open.m);
    if (r < 0) { state.open = null; drawer.hidden = true; return; }
    var ai = -1;
    if (state.open.a) A.forEach(function (a, i) { if (a.k === state.open.a) ai = i; });
    if (!drawer.hidden && document.activeElement && !drawer.contains(document.activeElement)) returnFocus = document.activeElement;
    if (drawer.hidden) returnFocus = document.activeElement;
    drBody.textContent = "";
    if (ai >= 0 && ROWS[r][2][ai] !== ".") buildCell(r, ai); else buildCase(r);
    drawer.hidden = false;
    drBody.scrollTop = 0;
    if (focus) drTitle.focus();
    renderBody(true);
  }
  function closeDrawer() {
    state.open = null;
    drawer.hidden = true;
    writeHash();
    renderBody(true);
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
    else focusActive();
  }
  byId("dr-close").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !drawer.hidden) { ev.preventDefault(); closeDrawer(); } });

  function otherAdapters(r, current) {
    var row = ROWS[r];
    var box = h("div", { class: "others" });
    A.forEach(function (a, i) {
      var st = STATUS_OF[row[2][i]];
      var b = h("button", { type: "button", "aria-current": i === current ? "true" : null, title: D.rr[r][i] ? D.reasons[D.rr[r][i]] : st },
        h("span", { class: "chip st-" + st }, h("span", { "aria-hidden": "true" }, SYM[st]), " " + (st === "missing" ? "not run" : st)), " ", a.k);
      if (st === "missing") b.disabled = true;
      b.addEventListener("click", function () { state.open = { c: C[row[0]].id, m: row[1], a: a.k }; writeHash(); showDrawer(true); });
      box.append(b);
    });
    return box;
  }

  function buildCase(r) {
    var row = ROWS[r], c = C[row[0]];
    drTitle.textContent = c.title;
    drBody.append(h("p", { class: "sub" }, h("code", null, c.id), " · " + row[1] + " mode · " + D.topics[c.topic]));
    drBody.append(h("h3", null, "Every adapter on this check"));
    drBody.append(otherAdapters(r, -1));
    caseSection(c);
    reproSection(c, null);
  }

  function buildCell(r, ai) {
    var row = ROWS[r], c = C[row[0]], a = A[ai], st = STATUS_OF[row[2][ai]];
    var d = cellDetail(r, ai);
    var reason = D.rr[r][ai] ? D.reasons[D.rr[r][ai]] : "";
    drTitle.textContent = c.title;
    drBody.append(h("p", { class: "sub" }, h("code", null, c.id), " · " + row[1] + " mode · ", h("strong", null, a.k), " (" + a.lib + " " + a.ver + ", " + a.lang + ")"));
    drBody.append(h("div", { class: "verdict-line" }, chip(st), h("span", null, reason || (st === D.order[0] ? D.meaning[st] : ""))));
    var facts = [];
    if (d.es) facts.push("expected stages from " + (d.es === "case" ? "the case itself" : "the reference signer"));
    if (d.stage) facts.push("first difference: " + (STAGE_TITLE[d.stage] || d.stage));
    if (d.h) facts.push(d.h[1] ? "verdict " + st + " since " + d.h[0] + " (before: " + d.h[1] + ")" : "verdict " + st + " since the first recorded run (" + d.h[0] + ")");
    if (facts.length) drBody.append(h("p", { class: "sub" }, facts.join(" · ")));
    drBody.append(h("h3", null, "Other adapters on this check"));
    drBody.append(otherAdapters(r, ai));

    if (d.st && d.st.length) {
      drBody.append(h("h3", null, "Stages: expected vs actual"));
      d.st.forEach(function (s) { drBody.append(stageBlock(s, d.stage)); });
    }
    if (d.ver) {
      var v = d.ver;
      drBody.append(h("h3", null, "Server-side verification"));
      drBody.append(h("p", null, v.valid ? h("span", { class: "chip st-pass" }, "✓ accepted") : h("span", { class: "chip st-fail" }, "✗ rejected"),
        " ", S(v.reason) || "", v.rules && v.rules !== "spec" ? " (accepted under the open choice " + v.rules + ")" : ""));
      if (S(v.exp)) drBody.append(h("p", { class: "sub" }, "The case expects the server to refuse a correct generator's answer (" + S(v.exp) + ")."));
      if (v.changes && v.changes.length) drBody.append(h("ul", null, v.changes.map(function (x) { return h("li", null, S(x)); })));
      if (S(v.cr)) drBody.append(h("details", null, h("summary", null, "The canonical request the verifier derived from what it received"), h("pre", { class: "pre" }, S(v.cr))));
    }
    if (d.dec) {
      var ev = S(d.dec[1]);
      drBody.append(h("h3", null, "Decided by"));
      drBody.append(h("p", null, "rule ", h("code", null, S(d.dec[0])), ev ? [" · evidence ", /^https?:\/\//.test(ev) ? h("a", { href: ev, rel: "noreferrer noopener", target: "_blank" }, ev) : ev] : ""));
      var sides = [];
      if (d.dec[2] && d.dec[2].length) sides.push("oracles that agree with this verdict's verification: " + d.dec[2].join(", "));
      if (sides.length) drBody.append(h("p", { class: "sub" }, sides.join(" · ")));
      if (d.dec[3] && d.dec[3].length) drBody.append(h("ul", null, d.dec[3].map(function (x) {
        return h("li", null, "oracles disagree: " + x[0] + (S(x[1]) ? " (" + S(x[1]) + ")" : "") + (x[2] ? " · known difference " + x[2] : " · to triage"));
      })));
    }
    if (d.sig) {
      drBody.append(h("h3", null, row[1] === "form" ? "Where the library's form is posted" : row[1] === "token" ? "The token as a presigned URL" : "Signed request as the library emitted it"));
      drBody.append(h("pre", { class: "pre" }, (S(d.sig.m) || "") + " " + (S(d.sig.u) || "")));
      var tbl = h("table", { class: "hdrs" });
      d.sig.h.forEach(function (pair) { tbl.append(h("tr", null, h("td", null, S(pair[0]) + ":"), h("td", null, S(pair[1])))); });
      drBody.append(tbl);
      if (d.sig.b != null) drBody.append(h("p", { class: "sub" }, "body: " + d.sig.b + " bytes"));
    }
    caseSection(c);
    reproSection(c, a);
    var timing = [];
    if (d.ms != null) timing.push("wall time " + d.ms + " ms");
    if (d.ns != null) timing.push("inside the library " + (d.ns / 1000).toFixed(1) + " µs");
    if (timing.length) drBody.append(h("p", { class: "sub" }, timing.join(" · ")));
  }

  function caseSection(c) {
    drBody.append(h("h3", null, "The case"));
    if (c.note) drBody.append(h("p", null, c.note));
    var dl = h("dl", { class: "kv" });
    function kv(k, v) { if (v == null || v === "" || (Array.isArray(v) && !v.length)) return; dl.append(h("dt", null, k), h("dd", null, v)); }
    kv("Algorithm", c.algo + (c.svc ? " · service " + c.svc : "") + (c.region ? " · region " + c.region : "") + (c.rset && c.rset.length > 1 ? " · region set " + c.rset.join(",") : ""));
    kv("Tags", c.tags.map(function (t) { return D.tags[t]; }).join(", "));
    var dv = divText(c.div);
    kv("Divergence", c.div ? [h("b", null, (c.div + " " + dv[0]).trim()), dv[1] ? ": " + dv[1] : ""] : null);
    kv("Open choices", (c.open || []).join(", "));
    kv("Expected error", c.err ? "a correct signer refuses: " + c.err : null);
    kv("Refusal", c.refusal ? "refusing is an acceptable variant" : null);
    kv("Session token", c.tok ? "yes (shortened in this report)" : null);
    if (c.refs && c.refs.length) {
      kv("References", c.refs.map(function (ref, i) {
        var url = ref[1] && /^https?:\/\//.test(ref[1]) ? ref[1] : null;
        var node = url ? h("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, ref[0]) : h("span", null, ref[0]);
        return i ? [", ", node] : node;
      }));
    }
    kv("Source", h("code", null, c.src));
    drBody.append(dl);
    var req = c.req || {};
    var text = (req.m || "") + " " + (req.u || "") + "\n" + (req.h || []).map(function (p) { return p[0] + ": " + p[1]; }).join("\n") + (req.b ? "\n\n[" + req.b + " bytes of body]" : "");
    drBody.append(h("details", null, h("summary", null, "The request as the case gives it"), h("pre", { class: "pre" }, text)));
  }

  function reproSection(c, a) {
    drBody.append(h("h3", null, "Reproduce"));
    var cmds = [];
    if (a) {
      if (a.k !== a.name) {
        drBody.append(h("p", { class: "sub" }, "This column is " + a.name + " with " + a.lib + " " + a.ver + " (a merged report): run it with that version installed."));
        if (a.lang === "python") cmds.push(["That version", "python3 -m pip install " + shq(a.lib + "==" + a.ver)]);
      }
      cmds.push(["This check", "sigharness run " + c.repro + " --adapters " + shq(a.name) + " --out /tmp/sigharness-repro"]);
    } else {
      cmds.push(["Every adapter on this case", "sigharness run " + c.repro + " --out /tmp/sigharness-repro"]);
    }
    if (c.show) cmds.push(["The reference signer's stages", c.show]);
    cmds.forEach(function (pair) {
      var code = h("code", null, pair[1]);
      var b = h("button", { type: "button" }, "Copy");
      b.addEventListener("click", function () { copyText(pair[1], b, "Copied"); });
      drBody.append(h("div", { class: "sub" }, pair[0] + (pair[1].indexOf("sigharness run") === 0 ? " (runs the case in every mode it has):" : ":")), h("div", { class: "cmd" }, code, b));
    });
  }

  // Align two texts line by line (longest common subsequence), then pair removed and added lines.
  function align(e, a) {
    var n = e.length, m = a.length, out = [];
    if (n * m > 4000000) {
      for (var k = 0; k < Math.max(n, m); k++) out.push([k < n ? k : -1, k < m ? k : -1, k < n && k < m && e[k] === a[k]]);
      return out;
    }
    var w = m + 1, dp = new Uint32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--)
      dp[i * w + j] = e[i] === a[j] ? dp[(i + 1) * w + j + 1] + 1 : Math.max(dp[(i + 1) * w + j], dp[i * w + j + 1]);
    var i2 = 0, j2 = 0, dels = [], adds = [];
    function flush() {
      for (var q = 0; q < Math.max(dels.length, adds.length); q++) out.push([q < dels.length ? dels[q] : -1, q < adds.length ? adds[q] : -1, false]);
      dels = []; adds = [];
    }
    while (i2 < n || j2 < m) {
      if (i2 < n && j2 < m && e[i2] === a[j2]) { flush(); out.push([i2, j2, true]); i2++; j2++; }
      else if (j2 >= m || (i2 < n && dp[(i2 + 1) * w + j2] >= dp[i2 * w + j2 + 1])) { dels.push(i2); i2++; }
      else { adds.push(j2); j2++; }
    }
    flush();
    return out;
  }
  function marked(text, other) {
    // highlight what differs from `other` (common prefix and suffix left plain)
    if (other == null) return [text];
    var p = 0, maxp = Math.min(text.length, other.length);
    while (p < maxp && text[p] === other[p]) p++;
    var s = 0;
    while (s < text.length - p && s < other.length - p && text[text.length - 1 - s] === other[other.length - 1 - s]) s++;
    var mid = text.slice(p, text.length - s);
    if (!mid) return [text];
    return [text.slice(0, p), h("mark", { class: "dm" }, mid), text.slice(text.length - s)];
  }
  function stageBlock(s, firstStage) {
    var name = s[0], exp = S(s[1]), act = S(s[2]), compared = s[3] === 1, equal = s[4], line = s[5], note = S(s[6]), diff = S(s[7]);
    var stateEl;
    if (!compared) stateEl = h("span", { class: "state-skip" }, "not compared" + (note ? ": " + note : ""));
    else if (equal === 1) stateEl = h("span", { class: "state-equal" }, "✓ equal");
    else stateEl = h("span", { class: "state-differs" }, "✗ differs" + (line ? ", first at line " + line : ""));
    var det = h("details", { class: "stage", open: compared && equal !== 1 ? true : null },
      h("summary", null, h("span", { class: "sname" }, STAGE_TITLE[name] || name), stateEl, name === firstStage ? h("span", { class: "chip st-fail" }, "first difference") : null));
    if (exp == null && act == null) { det.append(h("p", { class: "sub", style: "padding:0 10px" }, "no text")); return det; }
    if (!compared || equal === 1 || exp == null || act == null) {
      if (exp != null) det.append(h("div", { class: "sub", style: "padding:0 10px" }, "expected" + (equal === 1 ? " = actual" : "")), h("pre", { class: "pre" }, exp));
      if (act != null && equal !== 1) det.append(h("div", { class: "sub", style: "padding:0 10px" }, "actual"), h("pre", { class: "pre" }, act));
      return det;
    }
    var el = exp.split("\n"), al = act.split("\n");
    var rows = align(el, al);
    var tbl = h("table", { class: "cmp" });
    tbl.append(h("colgroup", null, h("col", { style: "width:3.2em" }), h("col", { style: "width:1.6em" }), h("col"), h("col", { style: "width:3.2em" }), h("col")));
    tbl.append(h("thead", null, h("tr", null, h("th", { colspan: "3" }, "expected"), h("th", { colspan: "2" }, "actual"))));
    var tb = h("tbody"), firstDone = false;
    rows.forEach(function (rw) {
      var ei = rw[0], aj = rw[1], same = rw[2];
      var et = ei >= 0 ? el[ei] : null, at = aj >= 0 ? al[aj] : null;
      var first = !same && !firstDone;
      if (first) firstDone = true;
      tb.append(h("tr", { class: (same ? "same" : "diff") + (first ? " first" : "") },
        h("td", { class: "ln" }, ei >= 0 ? String(ei + 1) : ""),
        h("td", { class: "mk", title: first ? "first differing line" : null }, first ? ["▶", h("span", { class: "sr" }, "first difference")] : same ? "" : "≠"),
        h("td", { class: "txt e" }, et == null ? "" : same ? et : marked(et, at)),
        h("td", { class: "ln" }, aj >= 0 ? String(aj + 1) : ""),
        h("td", { class: "txt a" }, at == null ? "" : same ? at : marked(at, et))));
    });
    tbl.append(tb);
    det.append(h("div", { class: "table-wrap" }, tbl));
    if (diff) det.append(h("details", { style: "padding:0 10px 6px" }, h("summary", null, "unified diff"), h("pre", { class: "pre" }, diff)));
    return det;
  }

  // ------------------------------------------------------------------ start
  window.addEventListener("hashchange", function () {
    if (writing) return;
    readHash();
    update(false);
    showDrawer(false);
  });
  readHash();
  update(false);
  if (state.open) showDrawer(false);

  // for tests and for anyone scripting the page
  window.sigharnessReport = {
    viewCSV: viewCSV, viewJSON: viewJSON, viewRecords: viewRecords,
    shown: function () { return { rows: view.rows, cases: view.cases, adapters: view.cols.length }; },
    state: function () { return hashString(); },
  };
})();
