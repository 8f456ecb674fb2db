// Zoom (wheel) and pan (drag) for the images of the net detail page; double-click resets.
(function () {
  "use strict";
  document.querySelectorAll(".zoom").forEach(function (box) {
    var img = box.querySelector("img");
    var s = 1, x = 0, y = 0, drag = null;
    function apply() { img.style.transform = "translate(" + x + "px," + y + "px) scale(" + s + ")"; }
    box.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = box.getBoundingClientRect();
      var px = e.clientX - r.left, py = e.clientY - r.top;
      var k = e.deltaY < 0 ? 1.2 : 1 / 1.2;
      var ns = Math.min(16, Math.max(1, s * k));
      x = px - (px - x) * ns / s; y = py - (py - y) * ns / s; s = ns;
      if (s === 1) { x = 0; y = 0; }
      apply();
    }, { passive: false });
    box.addEventListener("pointerdown", function (e) { drag = [e.clientX - x, e.clientY - y]; box.setPointerCapture(e.pointerId); });
    box.addEventListener("pointermove", function (e) { if (drag) { x = e.clientX - drag[0]; y = e.clientY - drag[1]; apply(); } });
    box.addEventListener("pointerup", function () { drag = null; });
    box.addEventListener("dblclick", function () { s = 1; x = 0; y = 0; apply(); });
  });
})();
