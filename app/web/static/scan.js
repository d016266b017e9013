// Hand-over scan forms: read the QR code with the phone's camera where the browser offers
// BarcodeDetector, and attach the phone's position when asked. Typing the code always works.
(function () {
  "use strict";
  var form = document.querySelector("form[data-scan]");
  if (!form) return;
  var input = form.querySelector("input[name=code]");
  var camera = form.querySelector("[data-camera]");
  var video = form.querySelector("video");
  var note = form.querySelector("[data-camera-note]");

  function say(text) { note.textContent = text; note.hidden = false; }

  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    camera.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        camera.hidden = true;
        say("请将二维码对准取景框");
        video.play();
        var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              input.value = codes[0].rawValue;
              say("已识别，正在提交……");
              form.requestSubmit();
            } else {
              setTimeout(look, 250);
            }
          }, function () { setTimeout(look, 500); });
        };
        look();
      }, function () { say("无法打开摄像头，请直接输入交接码。"); });
    });
  }

  var locate = form.querySelector("[data-locate]");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(5);
        form.querySelector("input[name=lon]").value = pos.coords.longitude.toFixed(5);
        locate.textContent = "已附上当前位置";
        locate.disabled = true;
      }, function () { locate.textContent = "未能获取位置，可手动填写地点"; });
    });
  }
})();
