// The bench: verdicts pushed by the server (Server-Sent Events), the scanner field, the trigger.
(function () {
  "use strict";
  var root = document.getElementById("bench");
  var words = JSON.parse(root.dataset.words);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  window.qcsBench = { shown: [] };  // for the browser test: when each verdict reached the screen

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body ? JSON.stringify(body) : null
    }).then(function (r) {
      if (!r.ok) { return r.json().then(function (j) { throw new Error(j.detail || r.status); }); }
      return r.json();
    });
  }

  function showVerdict(d) {
    var v = $("verdict");
    v.className = "verdict " + d.verdict;
    v.textContent = d.word || words[d.verdict];
    v.dataset.id = d.id;
    var ul = $("reasons");
    ul.textContent = "";
    (d.plain_reasons || []).forEach(function (t) {
      var li = document.createElement("li"); li.textContent = t; ul.appendChild(li);
    });
    $("last-net").textContent = d.net_id || "–";
    var link = $("last-link"); link.href = "/inspections/" + d.id; link.hidden = false;
    var ov = $("overlay"); ov.src = "/api/inspections/" + d.id + "/overlay"; ov.hidden = false;
    if (d.status) { showStatus(d.status); }
    var entry = { id: d.id, at_ms: Date.now(), picked_at_ms: d.picked_at_ms,
                  pushed_at_ms: d.pushed_at_ms, painted_ms: null };
    window.qcsBench.shown.push(entry);
    requestAnimationFrame(function () { entry.painted_ms = Date.now(); });
  }

  // the whole net's verdict once all its sections are in
  function showNet(n) {
    var v = $("verdict");
    v.className = "verdict " + n.verdict;
    v.textContent = words[n.verdict];
    v.dataset.net = n.net;
    var ul = $("reasons");
    ul.textContent = "";
    (n.plain_reasons || []).forEach(function (t) {
      var li = document.createElement("li"); li.textContent = t; ul.appendChild(li);
    });
    $("last-net").textContent = n.net + " (" + n.sections + ")";
  }

  function showStatus(s) {
    if (s.camera !== undefined) { $("camera-state").textContent = s.camera_text || s.camera; }
    if (s.trigger !== undefined) { $("trigger-state").textContent = s.trigger_text || s.trigger; }
    if (s.net_id !== undefined) { $("current-net").textContent = s.net_id || "–"; }
    var lot = s.lot || {};
    if (lot.name) { $("lot-name").textContent = lot.name; }
    ["inspected", "passed", "failed", "to_go"].forEach(function (k) {
      var el = $("count-" + k.replace("_", ""));
      if (el && lot[k] !== undefined && lot[k] !== null) { el.textContent = lot[k].toLocaleString(root.dataset.lang); }
    });
    if (s.sampling_text !== undefined) { $("sampling").textContent = s.sampling_text; }
  }

  // the server ends each camera stream after 20 s: open the next one before that
  var live = $("live");
  if (live) {
    var renew = function () { live.src = "/bench/stream.mjpg?t=" + Date.now(); };
    setInterval(renew, 18000);
    live.addEventListener("error", function () { setTimeout(renew, 1000); });
  }

  var lang = encodeURIComponent(root.dataset.lang);
  var events = new EventSource("/bench/events?lang=" + lang);
  events.addEventListener("verdict", function (e) { showVerdict(JSON.parse(e.data)); });
  events.addEventListener("status", function (e) { showStatus(JSON.parse(e.data)); });

  $("net-form").addEventListener("submit", function (e) {
    e.preventDefault();  // a barcode scanner types the ID and presses Enter
    var field = $("net-id");
    var id = field.value.trim();
    if (!id) { return; }
    post("/api/nets/current", { net_id: id }).then(function () {
      $("current-net").textContent = id; field.value = ""; field.focus();
    }).catch(function (err) { $("current-net").textContent = String(err.message); });
  });

  // a net laid in sections: all its pictures taken
  $("finish").addEventListener("click", function () {
    post("/api/nets/current/finish").then(function (r) {
      $("current-net").textContent = "–"; $("net-id").focus();
      if (r.net) { showNet(r.net); }
    }).catch(function (err) { $("current-net").textContent = String(err.message); });
  });

  function trigger() {
    var b = $("trigger");
    if (b.disabled) { return; }
    window.qcsBench.triggered_at_ms = Date.now();
    post("/api/trigger").catch(function (err) { $("trigger-state").textContent = String(err.message); });
  }
  $("trigger-form").addEventListener("submit", function (e) { e.preventDefault(); trigger(); });
  // Space triggers (a foot pedal is a keyboard), except while typing in a field
  document.addEventListener("keydown", function (e) {
    var el = document.activeElement;  // net IDs have no spaces: Space in the scanner field triggers too
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.id !== "net-id";
    if (e.code === "Space" && !typing) { e.preventDefault(); trigger(); }
  });
})();
