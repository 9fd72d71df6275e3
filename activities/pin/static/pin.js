// Pin on image (activities/pin): placing the pin on phones, and the picture's own shape on the projector.
(function () {
  "use strict";
  var STEP = 1, BIG_STEP = 10;

  function clamp(value) { return Math.min(100, Math.max(0, value)); }
  function tenth(value) { return Math.round(value * 10) / 10; }
  function read(input) {
    var value = parseFloat(String(input.value).replace(",", ".").replace("%", ""));
    return isNaN(value) ? null : clamp(value);
  }

  function board(root) {
    if (root.dataset.pinReady) return;
    root.dataset.pinReady = "1";
    var figure = root.querySelector(".pin-figure");
    var marker = root.querySelector(".pin-marker");
    var circles = marker.querySelectorAll("circle");
    var where = root.querySelector(".pin-where");
    var across = root.querySelector('input[name="x"]');
    var down = root.querySelector('input[name="y"]');

    function describe(x, y) {
      return (root.dataset.textWhere || "{x}% across, {y}% down").replace("{x}", x).replace("{y}", y);
    }
    function draw(x, y) {
      for (var i = 0; i < circles.length; i++) {
        circles[i].setAttribute("cx", x + "%");
        circles[i].setAttribute("cy", y + "%");
      }
      marker.setAttribute("visibility", "visible");
    }
    // Put the pin at (x, y) percent: draw it, fill the fields the server reads, say where it is.
    function place(x, y) {
      x = tenth(clamp(x)); y = tenth(clamp(y));
      draw(x, y);
      across.value = String(x);
      down.value = String(y);
      where.textContent = describe(x, y);
    }
    function current() {
      var x = read(across), y = read(down);
      return x === null || y === null ? null : [x, y];
    }

    figure.addEventListener("click", function (event) {
      if (figure.closest("fieldset[disabled]")) return;
      var box = figure.getBoundingClientRect();
      place(100 * (event.clientX - box.left) / box.width, 100 * (event.clientY - box.top) / box.height);
    });
    figure.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      var move = moves[event.key];
      if (!move || figure.closest("fieldset[disabled]")) return;
      event.preventDefault();
      var at = current();
      if (at === null) { place(50, 50); return; }  // the first key shows the pin in the middle
      var step = event.shiftKey ? BIG_STEP : STEP;
      place(at[0] + move[0] * step, at[1] + move[1] * step);
    });
    // Typed positions move the pin too (the screen does not speak as someone types: the field says it).
    function typed() {
      var at = current();
      if (at !== null) draw(at[0], at[1]);
    }
    across.addEventListener("input", typed);
    down.addEventListener("input", typed);
  }

  // The projector's frame takes the picture's own shape (pin.css sizes it to fit the stage with --ratio).
  function fit(figure) {
    var image = figure.querySelector("img");
    function shape() {
      if (image.naturalWidth && image.naturalHeight) {
        figure.style.setProperty("--ratio", String(image.naturalWidth / image.naturalHeight));
      }
    }
    if (image.complete) shape(); else image.addEventListener("load", shape, { once: true });
  }

  function refresh() {
    var boards = document.querySelectorAll("[data-pin-board]");
    for (var i = 0; i < boards.length; i++) board(boards[i]);
    var figures = document.querySelectorAll("[data-pin-fit]");
    for (var j = 0; j < figures.length; j++) fit(figures[j]);
  }
  handsup.afterPush(refresh);
})();
