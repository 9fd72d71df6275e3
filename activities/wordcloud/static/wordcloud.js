// The word cloud's picture on the presenter and projector (loaded where a word cloud appears, after handsup.js).
(function () {
  "use strict";
  // Word-cloud images: keep showing the current picture, load the newer one behind it, then swap.
  // One request in flight per image, so a fast-moving cloud never queues up drawings.
  var loading = {};
  function refreshClouds() {
    var sources = document.querySelectorAll(".cloud-src");
    for (var i = 0; i < sources.length; i++) {
      var source = sources[i], img = document.getElementById(source.dataset.for);
      if (!img) continue;
      img.alt = source.dataset.alt;
      var wanted = source.dataset.src;
      if (img.dataset.shown === wanted || loading[img.id] === wanted) continue;
      if (loading[img.id]) { img.dataset.wanted = wanted; continue; }
      load(img, wanted);
    }
  }
  function load(img, src) {
    loading[img.id] = src;
    var next = new Image();
    next.onload = next.onerror = function () {
      delete loading[img.id];
      if (next.naturalWidth) { img.src = src; img.dataset.shown = src; }
      var wanted = img.dataset.wanted;
      delete img.dataset.wanted;
      if (wanted && wanted !== src) load(img, wanted);
    };
    next.src = src;
  }
  handsup.afterPush(refreshClouds);
})();
