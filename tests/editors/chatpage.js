// The chat page around an editor: a history above, the editor as the chat input below, and
// the events every chat page of the tests posts to its server (see pageserver.py): `message`
// with the text the editor's own API holds when Enter sends, `draft` after each change, and
// `ready` with where the input is in the viewport. Each editor's script hands `startChatPage`
// a function that builds its editor in the input's element and gives back
//   {getText(), clear(), focus()}
// and calls `changed()` after each change and `enter()` on Enter without Shift (which it
// keeps from the editor); Shift+Enter stays the editor's own new line. With `ignores_every`
// n in the page's config, every n-th Enter does nothing (an agent at work now and then).

export function startChatPage(build) {
  const config = JSON.parse(document.getElementById("config").textContent);
  const host = document.getElementById("input");
  const conversation = document.getElementById("history");
  let sequence = 0;
  let presses = 0;
  let editor = null;

  function post(kind, fields) {
    const body = JSON.stringify(Object.assign({pane: config.pane, kind: kind, seq: ++sequence}, fields));
    return fetch("/event", {method: "POST", headers: {"Content-Type": "application/json"}, body: body});
  }

  function show(text) {
    const item = document.createElement("div");
    item.className = "message";
    item.textContent = text.length > config.shown ? text.slice(0, config.shown) + " …" : text;
    conversation.appendChild(item);
    conversation.scrollTop = conversation.scrollHeight;
  }

  function submit() {
    const text = editor.getText();
    post("message", {text: text});
    show(text);
    editor.clear();
    post("draft", {text: editor.getText()});
  }

  function reportLayout() {
    const r = host.getBoundingClientRect();
    post("ready", {
      rect: [r.left, r.top, r.width, r.height],
      viewport: [window.innerWidth, window.innerHeight],
      scale: window.devicePixelRatio,
      editor: config.editor,
    });
  }

  editor = build(host, {
    changed: () => { if (editor) post("draft", {text: editor.getText()}); },
    enter: () => {
      presses += 1;
      // an agent at work now and then takes every n-th Enter for nothing
      const ignored = config.ignores_every && presses % config.ignores_every === 0;
      if (config.sends && !ignored) submit();
    },
  });
  window.chatEditor = editor;
  if (host.dataset.variant === "late-ring") {
    // the focus ring drawn 100 ms after the first key the focused input gets, and taken away
    // with the focus: a change of the input's look at select-all that selects nothing
    host.addEventListener("keydown", () => {
      setTimeout(() => host.classList.add("ringed"), 100);
    }, true);
    host.addEventListener("focusout", () => host.classList.remove("ringed"));
  }
  window.addEventListener("resize", reportLayout);
  requestAnimationFrame(() => requestAnimationFrame(reportLayout));
}
