// 复制链接: copy the link of the field a [data-copy] button names. Where the browser refuses
// the clipboard (WeChat's may), the link is selected so that a long press copies it.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var note = document.querySelector("[data-copy-note]");
    if (!field) return;
    button.hidden = false;

    function say(text) { if (note) { note.textContent = text; note.classList.add("copied"); } }
    function selectIt() { field.focus(); field.select(); field.setSelectionRange(0, field.value.length); }
    function byCommand() {
      selectIt();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      say(done ? "已复制，请打开手机浏览器，粘贴到地址栏打开。" : "请长按上方链接，选择“复制”。");
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          selectIt();
          say("已复制，请打开手机浏览器，粘贴到地址栏打开。");
        }, byCommand);
      } else {
        byCommand();
      }
    });
  });
})();
