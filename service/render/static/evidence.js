// The evidence page's behaviour: a focused or hovered fact lights the sentences it cites and scrolls to the
// first; a chosen sentence lists the facts that cite it. DOM methods and textContent only (no HTML strings),
// so the page runs under `require-trusted-types-for 'script'`.
(function () {
  "use strict";

  var factButtons = Array.prototype.slice.call(document.querySelectorAll(".fact-button"));
  var sentenceButtons = Array.prototype.slice.call(document.querySelectorAll(".sentence-button"));
  var sentences = {};
  var order = {};
  Array.prototype.forEach.call(document.querySelectorAll(".sentence"), function (li, index) {
    sentences[li.dataset.sid] = li;
    order[li.dataset.sid] = index;
  });
  var status = document.getElementById("status");
  var citing = document.getElementById("citing");
  var citingSid = document.getElementById("citing-sid");
  var citingList = document.getElementById("citing-list");
  var citingNone = document.getElementById("citing-none");
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var activeFact = null;

  function citesOf(element) {
    return (element.dataset.cites || "").split(" ").filter(function (sid) { return sid in sentences; });
  }

  function clearLit() {
    Object.keys(sentences).forEach(function (sid) { sentences[sid].classList.remove("lit"); });
    factButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", "false");
      button.parentElement.classList.remove("active");
    });
    activeFact = null;
  }

  function light(button) {
    if (activeFact === button) {
      return;
    }
    clearLit();
    activeFact = button;
    var ids = citesOf(button).sort(function (a, b) { return order[a] - order[b]; });
    ids.forEach(function (sid) { sentences[sid].classList.add("lit"); });
    button.setAttribute("aria-pressed", "true");
    button.parentElement.classList.add("active");
    status.textContent = ids.length ? "Cited sentences lit: " + ids.join(", ") : "This fact cites no sentence.";
    if (ids.length) {
      sentences[ids[0]].scrollIntoView({ block: "nearest", behavior: reduceMotion ? "auto" : "smooth" });
    }
  }

  function showCiting(sid) {
    sentenceButtons.forEach(function (button) {
      var chosen = button.dataset.sid === sid;
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      sentences[button.dataset.sid].classList.toggle("chosen", chosen);
    });
    while (citingList.firstChild) {
      citingList.removeChild(citingList.firstChild);
    }
    var found = factButtons.filter(function (button) { return citesOf(button).indexOf(sid) !== -1; });
    found.forEach(function (button) {
      var item = document.createElement("li");
      var jump = document.createElement("button");
      jump.type = "button";
      jump.className = "citing-fact";
      jump.textContent = button.textContent.trim();
      jump.addEventListener("click", function () { button.focus(); });
      item.appendChild(jump);
      citingList.appendChild(item);
    });
    citingSid.textContent = sid;
    citingNone.hidden = found.length > 0;
    citing.hidden = false;
    status.textContent = sid + " is cited by " + found.length + (found.length === 1 ? " fact" : " facts");
  }

  factButtons.forEach(function (button) {
    button.addEventListener("focus", function () { light(button); });
    button.addEventListener("mouseenter", function () { light(button); });
    button.addEventListener("click", function () { light(button); });
  });
  sentenceButtons.forEach(function (button) {
    button.addEventListener("click", function () { showCiting(button.dataset.sid); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      clearLit();
      status.textContent = "Highlights cleared";
    }
  });
  document.documentElement.classList.add("js");
})();
