// Handsup's glue around htmx: connection state, the no-socket fallbacks, "sending" feedback, the kinds' push hook.
(function () {
  "use strict";
  var socketOpen = false;
  // Close codes after which htmx's websocket extension reconnects by itself.
  var RECONNECTS = [1006, 1011, 1012, 1013];
  // A network that lets no websocket through (some hotel and venue proxies): after FLAKY_LIMIT sockets in a row
  // that never opened, or closed within FLAKY_MS, the page follows over server-sent events instead and stays on
  // them (this tab remembers it, so its next page goes straight there).
  var FLAKY_MS = 5000, FLAKY_LIMIT = 2, REMEMBER = "handsup.transport";
  var failures = 0, openedAt = 0, stream = null, streamRetry = 1000;
  var preferEvents = remembered() === "events";

  // Every (re)connect tells the server which stage this phone shows now, so it is not sent again (a second
  // copy would wipe what the participant is typing) and a stale one is replaced.
  htmx.createWebSocket = function (url) {
    if (followsByEvents()) return INERT;  // on event streams: the socket stays shut, htmx stops retrying
    var socket = new WebSocket(withStage(url), []);
    socket.binaryType = htmx.config.wsBinaryType;
    return socket;
  };
  // What htmx's extension gets in place of a socket once the page follows by events: it never opens or closes.
  var INERT = {readyState: 3, OPEN: 1, addEventListener: function () {}, send: function () {}, close: function () {}};

  // Only a page that has a stream to follow (the participant's): a presenter view opened later in the same tab
  // still gets its socket.
  function followsByEvents() {
    return Boolean(stream || (preferEvents && document.querySelector("[data-events]")));
  }

  function withStage(url) {
    var stage = document.getElementById("stage");
    if (!stage || !stage.dataset.stage) return url;
    if (/[?&]stage=/.test(url)) return url.replace(/([?&]stage=)[^&]*/, "$1" + stage.dataset.stage);
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "stage=" + stage.dataset.stage;
  }

  function remembered() {
    try { return window.sessionStorage.getItem(REMEMBER); } catch (e) { return null; }
  }
  function remember(transport) {
    try { window.sessionStorage.setItem(REMEMBER, transport); } catch (e) { /* private mode: try sockets again */ }
  }

  // The page's words for what this script says (data-text-* on <body>, in the page's language); English without them.
  function say(key, english) {
    return (document.body && document.body.dataset[key]) || english;
  }

  // Banners are live regions: a write of the same words would be read out again at every reconnect attempt.
  function show(id, visible, text) {
    var el = document.getElementById(id);
    if (!el) return;
    if (text && el.textContent !== text) el.textContent = text;
    if (el.hidden === visible) el.hidden = !visible;
  }

  // A pushed status line updates the one on the page rather than replacing it: screen readers announce changes to
  // a live region they already know and often stay silent about a new one; the same words are not re-announced.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target, fresh = event.detail.fragment.firstElementChild;
    // Plain-text polite regions only; an alert is announced as it arrives, so that one is swapped in whole.
    if (!fresh || fresh.id !== target.id || target.getAttribute("aria-live") !== "polite" || fresh.children.length ||
        fresh.getAttribute("role") === "alert") return;
    event.detail.shouldSwap = false;
    target.className = fresh.className;
    target.hidden = fresh.hidden;
    if (target.textContent !== fresh.textContent) target.textContent = fresh.textContent;
  });

  // Server-sent events: each event is an HTML fragment, swapped into the page by the id of its root element as
  // htmx's websocket extension does; EventSource reconnects by itself and says which stage it last received.
  function follow() {
    var source = document.querySelector("[data-events]");
    if (!source || !window.EventSource || stream) return;
    preferEvents = true;
    remember("events");
    stream = new EventSource(withStage(source.dataset.events));
    document.body.dataset.transport = "events";
    stream.onopen = function () {
      streamRetry = 1000;
      show("connection", false);
    };
    stream.onmessage = function (event) {
      swapFragments(event.data);
      afterPush();
    };
    stream.onerror = function () {
      show("connection", true, say("textLost", "Connection lost. Reconnecting…"));
      if (stream.readyState !== EventSource.CLOSED) return;  // EventSource retries by itself
      // Refused (not a 200: too many connections, or the session is over): try again later, as sockets do.
      stream = null;
      window.setTimeout(follow, streamRetry);
      streamRetry = Math.min(streamRetry * 2, 64000);
    };
  }

  // Every root element is swapped out of band, as the websocket extension does, so both take one path (the
  // hooks on htmx:oobBeforeSwap included).
  function swapFragments(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var roots = template.content.children;
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].hasAttribute("hx-swap-oob")) roots[i].setAttribute("hx-swap-oob", "true");
    }
    htmx.swap(document.body, template.innerHTML, {swapStyle: "none"});
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (preferEvents) follow();
  });
  document.addEventListener("htmx:wsOpen", function () {
    socketOpen = true;
    openedAt = Date.now();
    show("connection", false);
  });
  document.addEventListener("htmx:wsClose", function (event) {
    socketOpen = false;
    var close = event.detail && event.detail.event;
    var retried = !close || RECONNECTS.indexOf(close.code) >= 0;
    failures = retried && (!openedAt || Date.now() - openedAt < FLAKY_MS) ? failures + 1 : 0;
    openedAt = 0;
    if (failures >= FLAKY_LIMIT && document.querySelector("[data-events]")) {
      follow();
      return;
    }
    if (close && RECONNECTS.indexOf(close.code) < 0) {
      // Turned away for good (session over, link not valid) or closed on purpose: htmx does not retry these.
      show("connection", true, say("textGone", "This page is no longer live. Reload it, or join again with the code."));
    } else if (close && close.code === 1013 && close.reason) {
      // Too many connections from this network right now: the server says so, and htmx tries again later.
      show("connection", true, close.reason + " " + say("textReconnecting", "Reconnecting…"));
    } else {
      show("connection", true, say("textLost", "Connection lost. Reconnecting…"));
    }
  });

  // With no open socket, post the form the plain way: the answer is stored and the page comes back.
  // (htmx has cancelled the native submit already; form.submit() sends it without htmx seeing it.)
  document.addEventListener("htmx:wsConfigSend", function (event) {
    if (socketOpen) return;
    event.preventDefault();
    var form = event.target.closest ? event.target.closest("form[action]") : null;
    if (!form) return;
    addCsrfToken(form);
    form.submit();
  });

  // A pushed form is shared by every phone and carries no CSRF token; the page's own (on <body>, for htmx) goes in.
  function addCsrfToken(form) {
    var token;
    try { token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"]; } catch (e) { return; }
    if (!token) return;
    var field = form.querySelector('input[name="csrf_token"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrf_token";
      form.appendChild(field);
    }
    field.value = token;
  }

  // Between sending and the server's "received" (sent only once the answer is stored).
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var status = form ? form.querySelector(".status") : null;
    if (status) {
      status.className = "status pending";
      status.textContent = say("textSending", "Sending…");
    }
  });

  // Presenter controls answer with a problem body when something is not possible now.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr, message = say("textFailed", "That did not work. Please try again.");
    try { message = JSON.parse(xhr.responseText).detail || message; } catch (e) { /* keep the default */ }
    show("toast", true, message);
    window.setTimeout(function () { show("toast", false); }, 6000);
  });

  // Countdowns: each counts down from the seconds left when it arrived (no reliance on the phone's clock).
  window.setInterval(function () {
    var timers = document.querySelectorAll(".countdown[data-seconds-left]");
    for (var i = 0; i < timers.length; i++) {
      var timer = timers[i];
      if (!timer.dataset.deadline) timer.dataset.deadline = Date.now() + 1000 * Number(timer.dataset.secondsLeft);
      var left = Math.max(0, Math.ceil((Number(timer.dataset.deadline) - Date.now()) / 1000));
      var value = timer.querySelector(".countdown-value");
      if (value && value.textContent !== String(left)) value.textContent = String(left);
    }
  }, 250);

  // Floating reactions remove themselves once they have floated (and a flood is capped).
  document.addEventListener("animationend", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("reaction")) el.remove();
  });
  function capReactions() {
    var layer = document.getElementById("reactions");
    while (layer && layer.children.length > 60) layer.removeChild(layer.firstChild);
  }

  // The projector's stage. CSS lays it out inside the window (handsup.css, "Projector"); what CSS cannot do is
  // choose how much of a long list to show. So, when the page loads, when the window changes size and after every
  // push, each box on the stage (the lobby, an activity, the farewell) that overflows is fitted: its longest list
  // is shrunk step by step, never below the text floor (--floor), then its last items are hidden until the box
  // fits and a line says how many more there are; a box with no list to trim shrinks as a whole, to the floor.
  // Every fit starts from the page as pushed, so a window made larger shows everything again.
  var FIT_BOXES = ".projector-stage > .projected, .projector-stage > .lobby, .projector-stage > .farewell";
  var FIT_LISTS = ".bars, .cards, .top-words, .slide-body";
  var FIT_HEADINGS = ".projector-title, .prompt";
  var HEADING_LEAST = 0.6;  // a title shrinks to at most this share of its size, to make room for its list
  // Small print (counts, badges) keeps to the floor by itself in CSS (max(0.9em, var(--floor))): it does not stop
  // the rest of a list from shrinking.
  var FLOORED = ".small, small, .kind-badge";
  // Cards are read as sentences: they keep at least the stage's base size, and fewer of them are shown instead.
  var READ_AS_TEXT = ".cards";
  var SHRINK = 0.9;  // each step of shrinking, as a share of the step before

  function overflows(box) {
    return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
  }

  // The computed size of the smallest text in an element (its own or its descendants' text), small print aside.
  function smallestText(el) {
    var smallest = Infinity, all = [el].concat(Array.prototype.slice.call(el.querySelectorAll("*")));
    for (var i = 0; i < all.length; i++) {
      if (all[i].closest(FLOORED)) continue;
      var nodes = all[i].childNodes, text = false;
      for (var j = 0; j < nodes.length && !text; j++) text = nodes[j].nodeType === 3 && nodes[j].textContent.trim();
      if (text) smallest = Math.min(smallest, parseFloat(getComputedStyle(all[i]).fontSize));
    }
    return smallest === Infinity ? parseFloat(getComputedStyle(el).fontSize) : smallest;
  }

  function unfit(box) {
    var shrunk = box.querySelectorAll("[data-fit-size]");
    for (var i = 0; i < shrunk.length; i++) shrunk[i].style.fontSize = "";
    box.style.fontSize = "";
    var hidden = box.querySelectorAll("[data-fit-hidden]");
    for (i = 0; i < hidden.length; i++) hidden[i].removeAttribute("data-fit-hidden");
    var notes = box.querySelectorAll(".fit-more");
    for (i = 0; i < notes.length; i++) notes[i].remove();
    var more = box.querySelector(".more[data-fit-text]");
    if (more) more.textContent = more.dataset.fitText;
  }

  // Shrink `el`'s text until `box` fits or its smallest text reaches the floor (or `least`, a share of its size);
  // true when the box fits.
  function shrink(el, box, floor, least) {
    var size = parseFloat(getComputedStyle(el).fontSize);
    least = Math.max(least || 0, floor / smallestText(el));
    if (least >= 1) return false;
    el.dataset.fitSize = "";
    for (var scale = SHRINK; ; scale *= SHRINK) {
      el.style.fontSize = size * Math.max(scale, least) + "px";
      if (!overflows(box)) return true;
      if (scale <= least) return false;
    }
  }

  // Show the first items of `list` that fit in `box` (at least none), and say how many more there are: in the
  // list's own "and N more" line when the server sent one (it shows a bounded number), else in a new line.
  function showAsManyAsFit(list, box) {
    var items = itemsOf(list), more = box.querySelector(".more[data-more]"), note = more;
    var made = list.nextElementSibling;  // a note this fit made already (a second try, after the box shrank)
    if (!note && made && made.classList.contains("fit-more")) note = made;
    if (!note) {
      note = document.createElement("p");
      note.className = "small fit-more";
      list.parentNode.insertBefore(note, list.nextSibling);
    } else if (!note.dataset.fitText) {
      note.dataset.fitText = note.textContent;
    }
    var beyond = more ? Number(more.dataset.more) || 0 : 0;
    function show(count) {
      for (var i = 0; i < items.length; i++) {
        if (i < count) items[i].removeAttribute("data-fit-hidden");
        else items[i].setAttribute("data-fit-hidden", "");
      }
      // A slide's body is prose, not a list to count: a trimmed one ends in an ellipsis.
      note.textContent = list.classList.contains("slide-body") ? "…"
        : say("textMore", "and {n} more").replace("{n}", String(items.length - count + beyond));
    }
    var low = 0, high = items.length - 1;  // the whole list did not fit; find the most that do
    while (low < high) {
      var middle = Math.ceil((low + high) / 2);
      show(middle);
      if (overflows(box)) high = middle - 1;
      else low = middle;
    }
    show(low);
    return !overflows(box);
  }

  // What a list shows, item by item: its children; a slide's body is read paragraph by paragraph, and point by
  // point in its bulleted and numbered lists.
  function itemsOf(list) {
    var items = [];
    for (var i = 0; i < list.children.length; i++) {
      var child = list.children[i];
      if (list.classList.contains("slide-body") && /^(UL|OL)$/.test(child.tagName) && child.children.length) {
        items = items.concat(Array.prototype.slice.call(child.children));
      } else {
        items.push(child);
      }
    }
    return items;
  }

  // Fit one box: its longest list shrinks (bars to the floor, cards to the stage's base size), then its title and
  // prompt (above cards, only if that is enough), then the list shows what fits; a box with no list (or whose list is all hidden and
  // still too big) shrinks as a whole.
  function fit(box, floor) {
    unfit(box);
    if (!overflows(box)) return;
    var lists = box.querySelectorAll(FIT_LISTS), list = null;
    for (var i = 0; i < lists.length; i++) {
      if (itemsOf(lists[i]).length && (!list || itemsOf(lists[i]).length > itemsOf(list).length)) list = lists[i];
    }
    var text = list && list.matches(READ_AS_TEXT);
    if (list && shrink(list, box, text ? Math.max(floor, parseFloat(getComputedStyle(box).fontSize)) : floor)) return;
    // The title and prompt give way to the list; above cards, only if that is enough to show them all.
    var headings = box.querySelectorAll(FIT_HEADINGS);
    for (i = 0; i < headings.length; i++) {
      if (shrink(headings[i], box, floor, HEADING_LEAST)) return;
    }
    for (i = 0; text && i < headings.length; i++) headings[i].style.fontSize = "";
    if (list && showAsManyAsFit(list, box)) return;
    // The rest of the box is too tall by itself (a quiz's bars beside its leaderboard): the box shrinks as a whole,
    // then its list shows again as much as now fits (not none: a leaderboard must keep its top).
    shrink(box, box, floor);
    if (list) showAsManyAsFit(list, box);
  }

  var fitting = 0;
  function fitStage() {
    fitting = 0;
    if (!document.body || !document.body.classList.contains("projector")) return;
    var floor = parseFloat(getComputedStyle(document.body).getPropertyValue("--floor")) || 18;
    var boxes = document.querySelectorAll(FIT_BOXES);
    for (var i = 0; i < boxes.length; i++) fit(boxes[i], floor);
  }
  // A resized window (or a projector plugged in) fits the stage again, once per frame at most.
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.querySelector(".projector .projector-main");
    if (!main || !window.ResizeObserver) return;
    new ResizeObserver(function () {
      if (!fitting) fitting = window.requestAnimationFrame(fitStage);
    }).observe(main);
  });

  // After every pushed message, over the socket or the event stream: the page's own upkeep, then each kind's.
  // A kind's script (activities/<kind>/static/, loaded after this one where the kind appears) adds its work with
  // handsup.afterPush(fn): fn runs once the page is loaded and again after every push.
  var pushed = [capReactions, fitStage];
  function afterPush() {
    for (var i = 0; i < pushed.length; i++) pushed[i]();
  }
  window.handsup = {
    afterPush: function (fn) {
      pushed.push(fn);
      if (document.readyState !== "loading") fn();
      else document.addEventListener("DOMContentLoaded", fn);
    }
  };
  document.addEventListener("htmx:wsAfterMessage", afterPush);
})();
