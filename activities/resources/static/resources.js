// The call for resources on the phones: the list to upvote is pushed to everyone without anybody's marks.
(function () {
  "use strict";
  // A pushed list keeps the boxes this phone has ticked (sent or not yet): a new resource never unticks them.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target, fresh = event.detail.fragment.firstElementChild;
    if (!target || !fresh || !target.classList.contains("resource-shared") || fresh.id !== target.id) return;
    var boxes = target.querySelectorAll("input[name=upvote]");
    for (var i = 0; i < boxes.length; i++) {
      var same = fresh.querySelector("input[name=upvote][value='" + boxes[i].value + "']");
      if (same) same.checked = boxes[i].checked;
    }
  });
  // This phone's own suggestion is not offered to upvote (the tally would not count it).
  function hideOwn() {
    var owns = document.querySelectorAll("[data-resources-own]");
    for (var i = 0; i < owns.length; i++) {
      var list = document.getElementById(owns[i].dataset.resourcesOwn), mine = owns[i].dataset.mine;
      if (!list) continue;
      var items = list.querySelectorAll("[data-key]");
      for (var j = 0; j < items.length; j++) {
        items[j].hidden = items[j].dataset.key === mine;
        if (items[j].hidden) items[j].querySelector("input").checked = false;
      }
    }
  }
  handsup.afterPush(hideOwn);
})();
