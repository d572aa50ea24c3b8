// schoolgate console: the only script. Asks before a decision that cannot be undone;
// everything works without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var action = form.getAttribute("action") || "";
  if (/\/(discard|disable|close|reopen|reject|reset)$/.test(action)) {
    var label = button ? button.textContent.trim() : "Выполнить";
    if (!window.confirm(label + "?")) { event.preventDefault(); }
  }
});
