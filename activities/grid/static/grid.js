// The 2x2 grid on phones (loaded after handsup.js): each slider shows its value, moving one un-ticks "Skip", and a
// small square beside the sliders moves both at once by tap or drag. The sliders stay the control: the square is
// hidden from screen readers and keyboard users need it not.
(function () {
  "use strict";
  function fieldsOf(box) {
    return { x: box.querySelector('input[data-axis="x"]'), y: box.querySelector('input[data-axis="y"]'),
             skip: box.querySelector('.grid-skip input') };
  }
  function show(box) {
    var f = fieldsOf(box), min = Number(box.dataset.min), max = Number(box.dataset.max);
    var outputs = box.querySelectorAll(".grid-value[data-for]");
    for (var i = 0; i < outputs.length; i++) {
      var input = document.getElementById(outputs[i].dataset.for);
      if (input) outputs[i].textContent = input.value;
      outputs[i].hidden = false;
    }
    var dot = box.querySelector(".grid-pad-dot");
    if (dot && f.x && f.y) {
      dot.style.left = (100 * (Number(f.x.value) - min) / (max - min)) + "%";
      dot.style.top = (100 - 100 * (Number(f.y.value) - min) / (max - min)) + "%";
    }
  }
  function place(box, event) {
    var f = fieldsOf(box), pad = box.querySelector(".grid-pad"), rect = pad.getBoundingClientRect();
    var min = Number(box.dataset.min), max = Number(box.dataset.max);
    var fx = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    var fy = Math.min(1, Math.max(0, (rect.bottom - event.clientY) / rect.height));
    f.x.value = String(Math.round(min + fx * (max - min)));
    f.y.value = String(Math.round(min + fy * (max - min)));
    if (f.skip) f.skip.checked = false;
    show(box);
  }
  function setUp() {
    var boxes = document.querySelectorAll("[data-grid-item]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (!box.querySelector(".grid-pad")) {
        var pad = document.createElement("span");
        pad.className = "grid-pad";
        pad.setAttribute("aria-hidden", "true");
        pad.innerHTML = '<span class="grid-pad-dot"></span>';
        box.querySelector(".grid-sliders").after(pad);
        pad.addEventListener("pointerdown", function (event) {
          var own = event.currentTarget.closest("[data-grid-item]");
          event.currentTarget.setPointerCapture(event.pointerId);
          place(own, event);
        });
        pad.addEventListener("pointermove", function (event) {
          if (event.currentTarget.hasPointerCapture(event.pointerId)) {
            place(event.currentTarget.closest("[data-grid-item]"), event);
          }
        });
      }
      show(box);
    }
  }
  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("[data-grid-item]");
    if (!box) return;
    if (event.target.type === "range") {
      var skip = fieldsOf(box).skip;
      if (skip) skip.checked = false;
    }
    show(box);
  });
  handsup.afterPush(setUp);
})();
