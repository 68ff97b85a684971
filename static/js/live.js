// Live attendance page: poll the status JSON and update counts, the marked list and camera status.
// Without JavaScript the page still shows the MJPEG stream; the list updates on reload.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var url = root.getAttribute("data-status-url");
  var delay = 1500;

  function setText(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined && value !== null) { el.textContent = String(value); }
  }

  function render(data) {
    setText("count-present", data.present);
    setText("count-absent", data.absent);
    setText("count-unknown", data.unknown);
    var camera = data.camera;
    setText("camera-status", camera ? camera.status : data.status);
    setText("camera-message", camera ? camera.message : data.status_message);
    setText("fps", camera ? camera.fps : 0);
    var list = document.getElementById("marked");
    if (list && list.children.length !== data.marked.length) {
      list.textContent = "";
      data.marked.forEach(function (m) {
        var li = document.createElement("li");
        if (m.snapshot_url) {
          var img = document.createElement("img");
          img.src = m.snapshot_url; img.width = 48; img.height = 48; img.alt = "";
          li.appendChild(img);
        }
        li.appendChild(document.createTextNode(" " + m.name + " (" + m.roll_number + ")"));
        list.appendChild(li);
      });
    }
    var running = camera ? ["starting", "connecting", "running", "offline"].indexOf(camera.status) >= 0 : data.status === "running";
    var img = document.getElementById("stream");
    if (!running && img) { img.alt = "The camera has stopped"; }
    if (!running) { setText("absent-label", "absent"); }
    return running;
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { if (render(data)) { setTimeout(poll, delay); } })
      .catch(function () { setTimeout(poll, delay * 4); });
  }

  setTimeout(poll, delay);
}());
