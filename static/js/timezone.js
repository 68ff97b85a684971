// Tell the server the browser's time zone once, so the next pages show times in it (the teacher can change it in Settings).
(function () {
  "use strict";
  var body = document.body;
  if (!body || body.getAttribute("data-tz-unset") !== "1" || !window.fetch || !window.Intl) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) { return; }
  var data = new FormData();
  data.append("timezone", zone);
  data.append("auto", "1");
  data.append("csrf_token", body.getAttribute("data-csrf"));
  fetch(body.getAttribute("data-tz-url"), { method: "POST", body: data, credentials: "same-origin" })
    .catch(function () { /* times stay in UTC; the next page tries again */ });
}());
