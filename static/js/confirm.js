// Forms marked data-confirm ask before submitting (deletes). No inline JS, so names need no escaping.
// Forms marked data-busy say what is happening while a slow request runs (photo checks, uploads) and
// cannot be sent twice. Without JavaScript both still submit normally.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    return;
  }
  var busy = form.getAttribute("data-busy");
  if (busy) {
    var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
    if (button) {
      button.setAttribute("data-label", button.textContent);
      button.textContent = busy;
      button.classList.add("is-busy");
    }
  }
});
// Back to a page kept in the browser's cache: its forms may be sent again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[aria-busy=true]").forEach(function (form) {
    form.removeAttribute("aria-busy");
    form.querySelectorAll(".is-busy").forEach(function (button) {
      button.textContent = button.getAttribute("data-label");
      button.classList.remove("is-busy");
    });
  });
});
// A choice made with radios, each followed by its own field (Start Attendance's camera kinds): using a
// field picks its radio, so choosing a video file cannot silently start the webcam instead.
document.addEventListener("input", pickOwnRadio);
document.addEventListener("change", pickOwnRadio);
function pickOwnRadio(event) {
  var field = event.target;
  if (field.type === "radio" || !field.closest) { return; }
  var row = field.closest("fieldset p");
  var radio = row && row.querySelector("input[type=radio]");
  if (radio && !radio.checked) { radio.checked = true; }
}
