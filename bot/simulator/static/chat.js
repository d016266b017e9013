// The simulated WeChat user: sends through /chat/api/send, polls /chat/api/messages.
// Everything from the server is text: it goes into the page with textContent only. The one
// markup WeChat honours in a text message, <a href="...">label</a>, becomes a link, and so does
// a bare http(s) URL, as WeChat shows them; nothing else is ever parsed as HTML.
"use strict";

(() => {
  const openid = document.body.dataset.openid;
  const log = document.getElementById("log");
  const empty = document.getElementById("empty");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const photo = document.getElementById("photo");
  const POLL_MS = 1500;
  const GAP_MS = 5 * 60 * 1000;
  let after = 0;
  let lastAt = 0;
  let pollTimer = 0;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };

  const safeUrl = (value) => {
    try {
      const url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  };

  const hhmm = (date) =>
    `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;

  function notice(text) {
    const row = el("div", "notice");
    row.append(el("span", "", text));
    return row;
  }

  function photoBubble(src) {
    const bubble = el("div", "bubble photo");
    const img = el("img");
    img.alt = "图片";
    img.loading = "lazy";
    img.addEventListener("load", () => {
      // a photo grows the log after it was scrolled: keep the newest line in view
      if (log.scrollHeight - log.scrollTop - log.clientHeight < img.height + 120) {
        log.scrollTop = log.scrollHeight;
      }
    });
    img.src = src;
    bubble.append(img);
    return bubble;
  }

  function card(title, first, rows, remark, url, linkText) {
    const box = el("article", "card");
    box.append(el("h2", "", title));
    if (first) box.append(el("p", "first", first));
    if (rows.length) {
      const dl = el("dl");
      for (const [label, value] of rows) {
        const line = el("div");
        line.append(el("dt", "", label), el("dd", "", value));
        dl.append(line);
      }
      box.append(dl);
    }
    if (remark) box.append(el("p", "remark", remark));
    const href = url && safeUrl(url);
    if (href) {
      const link = el("a", "", linkText);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      box.append(link);
    }
    return box;
  }

  function content(m) {
    if (m.kind === "image" && m.media_url) return photoBubble(m.media_url);
    if (m.kind === "template") {
      const f = m.fields || {};
      const labels = m.labels || {};
      const rows = Object.keys(f)
        .filter((k) => k !== "first" && k !== "remark")
        .map((k) => [labels[k] || k, f[k]]);
      return card(labels._title || "服务通知", f.first, rows, f.remark, m.url, "详情");
    }
    if (m.kind === "news") {
      const f = m.fields || {};
      return card(f.Title || "图文消息", f.Description, [], "", m.url, "阅读全文");
    }
    return textBubble(String(m.text ?? ""));
  }

  const LINK = /<a href="([^"<>]*)">([^<>]*)<\/a>|(https?:\/\/[^\s<>"]+)/g;
  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'" };
  const unescapeHtml = (text) => text.replace(/&(amp|lt|gt|quot|#x27);/g, (e) => ENTITIES[e]);

  function textBubble(text) {
    const bubble = el("div", "bubble");
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      bubble.append(document.createTextNode(text.slice(last, match.index)));
      const href = safeUrl(unescapeHtml(match[1] ?? match[3]));
      if (href) {
        const link = el("a", "", match[2] !== undefined ? unescapeHtml(match[2]) : match[3]);
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        bubble.append(link);
      } else {
        bubble.append(document.createTextNode(match[0]));
      }
      last = match.index + match[0].length;
    }
    bubble.append(document.createTextNode(text.slice(last)));
    return bubble;
  }

  function render(m) {
    const at = Date.parse(m.at);
    if (!Number.isNaN(at) && at - lastAt > GAP_MS) {
      const time = el("div", "time");
      time.append(el("span", "", hhmm(new Date(at))));
      log.append(time);
    }
    if (!Number.isNaN(at)) lastAt = at;
    if (m.side === "notice") {
      log.append(notice(m.text));
      return;
    }
    const row = el("div", `row ${m.side === "user" ? "user" : "account"}`);
    row.append(el("div", "avatar", m.side === "user" ? "我" : "办"), content(m));
    log.append(row);
  }

  function show(messages) {
    if (!messages.length) return;
    if (empty) empty.remove();
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    messages.forEach(render);
    if (atBottom || messages.some((m) => m.side === "user")) log.scrollTop = log.scrollHeight;
  }

  let polling = false; // one fetch at a time: two from the same `after` would both show
  let again = false; //   what is new, and every new message would appear twice

  async function poll() {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    window.clearTimeout(pollTimer);
    try {
      const query = new URLSearchParams({ openid, after: String(after) });
      const response = await fetch(`/chat/api/messages?${query}`, { cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        show(data.messages);
        after = data.last;
      }
    } catch {
      // the simulator restarted or the network blinked: try again on the next tick
    } finally {
      polling = false;
    }
    if (again) {
      again = false;
      poll();
      return;
    }
    pollTimer = window.setTimeout(poll, POLL_MS);
  }

  async function send(body) {
    const isForm = body instanceof FormData;
    const pending = fetch("/chat/api/send", {
      method: "POST",
      body: isForm ? body : JSON.stringify({ openid, ...body }),
      headers: isForm ? {} : { "Content-Type": "application/json" },
    });
    window.setTimeout(poll, 150); // the user's own bubble is recorded before WeChat pushes
    try {
      const response = await pending;
      if (!response.ok) show([{ side: "notice", text: `发送失败：${await response.text()}` }]);
    } catch {
      show([{ side: "notice", text: "发送失败：模拟器没有响应" }]);
    }
    poll();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text });
  });

  photo.addEventListener("change", () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("openid", openid);
    data.append("photo", file);
    photo.value = "";
    send(data);
  });

  document.querySelectorAll("[data-event]").forEach((button) => {
    button.addEventListener("click", () => send({ event: button.dataset.event }));
  });

  document.querySelectorAll(".menu button").forEach((button) => {
    button.addEventListener("click", () => {
      const group = button.closest("details");
      if (group) group.open = false;
      const { key, url } = button.dataset;
      if (key) {
        send({ event: "CLICK", key });
      } else if (url && safeUrl(url)) {
        send({ event: "VIEW", key: url });
        window.open(safeUrl(url), "_blank", "noopener");
      }
    });
  });

  poll();
})();
