// Points on the phones: the running total of the points given (loaded after handsup.js).
(function () {
  "use strict";
  // Running totals ([data-sum-prefix]): the sum of the form's fields named with that prefix, against a target
  // (100 points to spread), so the total is honest before the participant presses Send.
  function updateSums() {
    var sums = document.querySelectorAll("[data-sum-prefix]");
    for (var i = 0; i < sums.length; i++) {
      var sum = sums[i], form = sum.closest("form");
      if (!form) continue;
      var fields = form.querySelectorAll('input[name^="' + sum.dataset.sumPrefix + '"]');
      var total = 0, target = Number(sum.dataset.sumTarget);
      for (var j = 0; j < fields.length; j++) {
        var value = fields[j].value.trim();
        if (/^[0-9]+$/.test(value)) total += Number(value);
      }
      sum.hidden = false;
      sum.querySelector(".sum-value").textContent = String(total);
      sum.querySelector(".sum-left").textContent =
        total < target ? (sum.dataset.textLeft || "{n} left").replace("{n}", target - total)
          : total > target ? (sum.dataset.textOver || "{n} too many").replace("{n}", total - target)
          : sum.dataset.textExact || "all given";
      sum.classList.toggle("over", total > target);
      sum.classList.toggle("exact", total === target);
    }
  }
  document.addEventListener("input", updateSums);
  document.addEventListener("input", updateSums);
  handsup.afterPush(updateSums);
})();
