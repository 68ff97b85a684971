// Forms marked data-confirm ask before submitting (deletes). No inline JS, so names need no escaping.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
