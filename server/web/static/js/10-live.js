// Live status (progressive enhancement): My tickets and the ticket page
// ask the server every 20 seconds for the statuses they show and put a
// changed one in place, said politely to screen readers by the page's
// live region. Without this file a reload shows the same.
(function () {
  var root = document.querySelector("[data-live-src]");
  var say = document.getElementById("live-say");
  if (!root || !window.fetch) return;
  var src = root.getAttribute("data-live-src");
  var every = 20000;
  var timer = 0;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(poll, every);
  }
  function update(items) {
    var said = [];
    items.forEach(function (it) {
      document.querySelectorAll("[data-live]").forEach(function (el) {
        if (el.getAttribute("data-live") !== it.number || el.getAttribute("data-status") === it.status) return;
        el.classList.remove("status-" + el.getAttribute("data-status"));
        el.classList.add("status-" + it.status);
        el.setAttribute("data-status", it.status);
        var label = el.querySelector("[data-live-label]");
        if (label) label.textContent = it.label;
        if (said.indexOf(it.say) < 0) said.push(it.say);
      });
    });
    if (said.length && say) say.textContent = said.join(" ");
  }
  function poll() {
    if (document.hidden) return; // asked again when the page is shown
    fetch(src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        var type = res.headers.get("Content-Type") || "";
        // Signed out (the sign-in page) or gone: stop; a reload tells.
        if (!res.ok || res.redirected || type.indexOf("application/json") !== 0) return null;
        return res.json();
      })
      .then(function (data) {
        if (!data) return;
        update(data.items || []);
        later();
      }, later); // offline for a moment: try again later
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();
  });
  later();
})();
