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
// Room search: with script, the list filters as one types; without, the
// search form asks the server (same result).
(function () {
  var q = document.getElementById("q");
  var lists = document.querySelectorAll("[data-filter] li");
  if (!q || !lists.length) return;
  q.addEventListener("input", function () {
    var term = q.value.trim().toLowerCase();
    lists.forEach(function (li) {
      li.hidden = term !== "" && li.textContent.toLowerCase().indexOf(term) < 0;
    });
    document.querySelectorAll("[data-filter]").forEach(function (section) {
      section.hidden = !section.querySelector("li:not([hidden])");
    });
  });
})();
