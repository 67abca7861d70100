// The unread count next to "Inbox" in the navigation of enterprise users.
(function () {
  var badge = document.getElementById("unread-badge");
  if (!badge || !window.fetch) return;
  fetch("/inbox/unread.json", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (d) {
      if (d && d.unread > 0) {
        badge.textContent = d.unread > 99 ? "99+" : String(d.unread);
        badge.hidden = false;
        badge.setAttribute("aria-label", String(d.unread));
      }
    })
    .catch(function () {});
})();
