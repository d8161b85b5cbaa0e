// Progressive enhancement only: every page works without this file.
// A form that was sent once cannot be sent twice by a second tap while
// the next page loads (a double submit would add the comment twice).
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  if (form.dataset.sent) {
    ev.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.setAttribute("aria-busy", "true");
});
// Coming back through the browser's history shows the page as it was
// left: make its forms usable again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(function (f) {
    delete f.dataset.sent;
    f.removeAttribute("aria-busy");
  });
});
// Room and device search: with script, the room list filters as one
// types, and the devices matching (name, asset tag, serial, the label's
// code: the server knows them) follow a moment later from the same page
// the search form asks for; without script, the form asks the server
// (same result).
(function () {
  var q = document.getElementById("q");
  var results = document.getElementById("device-results");
  var status = document.getElementById("search-status");
  var lists = document.querySelectorAll("[data-filter] li");
  if (!q || (!lists.length && !results)) return;
  var timer = 0, asked = 0;
  function devices(term) {
    if (!results || !q.form) return;
    var mine = ++asked;
    if (term.length < 2) {
      results.innerHTML = "";
      if (status) status.textContent = "";
      return;
    }
    var url = q.form.action + "?" + new URLSearchParams(new FormData(q.form)).toString();
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== asked) return; // a later search answered first
        var page = new DOMParser().parseFromString(html, "text/html");
        var found = page.getElementById("device-results");
        var said = page.getElementById("search-status");
        if (!found) return;
        results.innerHTML = found.innerHTML;
        if (status && said) status.textContent = said.textContent;
      })
      .catch(function () {}); // the search button still asks the server
  }
  q.addEventListener("input", function () {
    var term = q.value.trim().toLowerCase();
    lists.forEach(function (li) {
      li.hidden = term !== "" && li.textContent.toLowerCase().indexOf(term) < 0;
    });
    document.querySelectorAll("[data-filter]").forEach(function (section) {
      section.hidden = !section.querySelector("li:not([hidden])");
    });
    clearTimeout(timer);
    timer = setTimeout(function () { devices(term); }, 250);
  });
})();
// Self-help for the problem chosen: the articles for other categories
// hide (without script, all of them show).
(function () {
  var box = document.getElementById("cat-help");
  if (!box || !box.closest("form")) return;
  var form = box.closest("form");
  function show() {
    var chosen = form.querySelector("input[name=category]:checked");
    var any = false;
    box.querySelectorAll("[data-categories]").forEach(function (a) {
      var ids = a.dataset.categories.split(" ");
      a.hidden = !chosen || ids.indexOf(chosen.value) < 0;
      any = any || !a.hidden;
    });
    box.hidden = !any;
  }
  form.addEventListener("change", function (ev) {
    if (ev.target.name === "category") show();
  });
  show();
})();
