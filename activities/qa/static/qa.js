// Q&A on the phones: each phone's own marks on the list shared by everyone (loaded after handsup.js).
(function () {
  "use strict";
  // Lists shared by everyone (Q&A) are pushed without anybody's marks; each phone keeps its own marks (what it
  // upvoted, what it asked) in a [data-own-for] element and applies them after every change.
  function applyOwnMarks() {
    var owns = document.querySelectorAll("[data-own-for]");
    for (var i = 0; i < owns.length; i++) {
      var own = owns[i], list = document.getElementById(own.dataset.ownFor);
      if (!list) continue;
      var voted = (own.dataset.voted || "").split(" "), mine = (own.dataset.mine || "").split(" ");
      var items = list.querySelectorAll("[data-key]");
      for (var j = 0; j < items.length; j++) {
        var item = items[j], key = item.dataset.key;
        item.classList.toggle("mine", mine.indexOf(key) >= 0);
        var button = item.querySelector("button[aria-pressed]");
        if (button) button.setAttribute("aria-pressed", voted.indexOf(key) >= 0 ? "true" : "false");
      }
    }
  }
  handsup.afterPush(applyOwnMarks);
})();
