// The review workspace's page: players that step by frame, key frames and the contact sheet that seek them,
// in and out marks at the playhead (keys i and o), the match view's aligned seeking, and the heartbeat that
// tells `ohrt review open` the page is still open. No library, no build step, nothing from the network.
"use strict";

(function () {
  const body = document.body;
  const base = body.dataset.base;
  const csrf = body.dataset.csrf;
  const players = Array.from(document.querySelectorAll("video.player"));
  let active = players[0] || null;
  let used = true;
  const marks = { in: null, out: null, player: null };

  function two(n) { return String(n).padStart(2, "0"); }
  function clock(t) {  // 01:23.40
    t = Math.max(t, 0);
    const m = Math.floor(t / 60), s = t - 60 * m;
    return two(m) + ":" + (s < 10 ? "0" : "") + s.toFixed(2);
  }
  function whole(seconds) {  // 83 -> 01:23, as `ohrt review` takes a time range
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(s);
  }
  function fps(player) { return parseFloat(player.dataset.fps) || 25; }

  function seek(player, t) {
    if (!player) return;
    player.pause();
    // a frame is shown from its own time: land just after it so rounding never shows the one before
    const f = fps(player);
    player.currentTime = Math.max(0, (Math.round(t * f) + 0.01) / f);
    active = player;
  }
  function step(player, frames) {
    const f = fps(player);
    seek(player, Math.round(player.currentTime * f + frames) / f);
  }

  players.forEach(function (player) {
    const show = function () {
      const id = player.id;
      document.querySelectorAll('.now[data-for="' + id + '"]').forEach(function (el) { el.textContent = clock(player.currentTime); });
      document.querySelectorAll('.frame[data-for="' + id + '"]').forEach(function (el) {
        el.textContent = Math.round(player.currentTime * fps(player));
      });
    };
    ["timeupdate", "seeked", "loadedmetadata"].forEach(function (e) { player.addEventListener(e, show); });
    ["play", "focus", "click", "seeking"].forEach(function (e) {
      player.addEventListener(e, function () { active = player; used = true; });
    });
  });

  document.querySelectorAll("img.keyframe").forEach(function (img) {
    img.addEventListener("click", function () {
      seek(document.getElementById(img.dataset.player), parseFloat(img.dataset.t));
    });
  });
  document.querySelectorAll("img.contact-sheet").forEach(function (img) {
    img.addEventListener("click", function (event) {
      const columns = parseInt(img.dataset.columns, 10), rows = parseInt(img.dataset.rows, 10);
      const rect = img.getBoundingClientRect();
      const col = Math.min(columns - 1, Math.floor((event.clientX - rect.left) / (rect.width / columns)));
      const row = Math.min(rows - 1, Math.floor((event.clientY - rect.top) / (rect.height / rows)));
      const tile = Math.min(row * columns + col, parseInt(img.dataset.tiles, 10) - 1);
      seek(document.getElementById(img.dataset.player), tile * parseFloat(img.dataset.spacing));
    });
  });
  document.querySelectorAll("button.segment").forEach(function (button) {
    button.addEventListener("click", function () {
      seek(document.getElementById(button.dataset.playerA), parseFloat(button.dataset.a));
      seek(document.getElementById(button.dataset.playerB), parseFloat(button.dataset.b));
    });
  });

  // ------------------------------------------------------------------------------------ marking
  function showMarks() {
    const i = document.getElementById("mark-in"), o = document.getElementById("mark-out");
    if (i) i.textContent = marks.in === null ? "—" : clock(marks.in);
    if (o) o.textContent = marks.out === null ? "—" : clock(marks.out);
  }
  function place() {  // the marks as a finding's place: whole seconds that hold the marked stretch
    if (marks.in === null || marks.out === null) return "";
    const f = marks.player ? fps(marks.player) : 25, half = 0.5 / f;
    const start = Math.floor(marks.in + half), end = Math.max(Math.ceil(marks.out - half), start + 1);
    const span = whole(start) + "-" + whole(end);
    return marks.player && marks.player.dataset.several === "1" ? "item " + marks.player.dataset.item + " at " + span : span;
  }
  function addFinding(at) {
    const template = document.getElementById("finding-template");
    if (!template) return null;
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector('[name="finding_at"]').value = at || "";
    document.getElementById("finding-rows").appendChild(row);
    wireRemove(row);
    row.querySelector("select").focus();
    return row;
  }
  function wireRemove(row) {
    const button = row.querySelector("button.remove");
    if (button) button.addEventListener("click", function () { row.remove(); });
  }
  document.querySelectorAll("#finding-rows .finding").forEach(wireRemove);
  const add = document.getElementById("add-finding");
  if (add) add.addEventListener("click", function () { addFinding(place()); });
  document.querySelectorAll("button.cite").forEach(function (button) {
    button.addEventListener("click", function () { addFinding(button.dataset.cite); });
  });

  document.addEventListener("keydown", function (event) {
    used = true;
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!active) return;
    if (event.key === "i") { marks.in = active.currentTime; marks.player = active; if (marks.out !== null && marks.out <= marks.in) marks.out = null; showMarks(); }
    else if (event.key === "o") { marks.out = active.currentTime; if (marks.player !== active) { marks.player = active; marks.in = null; } showMarks(); }
    else if (event.key === ",") step(active, -1);
    else if (event.key === ".") step(active, 1);
    else if (event.key === "k") { if (active.paused) active.play(); else active.pause(); }
    else return;
    event.preventDefault();
  });
  ["mousedown", "input", "scroll"].forEach(function (e) { document.addEventListener(e, function () { used = true; }, true); });

  // ------------------------------------------------------------------------------------ heartbeat
  const pageId = Math.random().toString(36).slice(2) + Date.now().toString(36);  // this page, among the open ones
  function beat(extra) {
    const form = new URLSearchParams({ csrf: csrf, page: pageId,
                                       active: used || players.some(function (p) { return !p.paused; }) ? "1" : "0" });
    Object.keys(extra || {}).forEach(function (k) { form.set(k, extra[k]); });
    used = false;
    return form;
  }
  const every = (parseFloat(body.dataset.heartbeat) || 10) * 1000;
  function hello() {
    fetch(base + "/heartbeat", { method: "POST", body: beat(), credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(); })
      .catch(function () { const c = document.getElementById("closed"); if (c) c.hidden = false; });
  }
  hello();
  setInterval(hello, every);
  window.addEventListener("pagehide", function () { navigator.sendBeacon(base + "/heartbeat", beat({ bye: "1" })); });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) hello();
  });
}());
