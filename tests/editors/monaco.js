// Monaco (VS Code's editor, as in VS Code's, Cursor's and Windsurf's chat inputs) as the chat
// input: plain text, wrapped lines, no line numbers, minimap or suggestions.
import * as monaco from "monaco-editor/editor/editor.api.js";
import {startChatPage} from "./chatpage.js";

startChatPage((host, page) => {
  const editor = monaco.editor.create(host, {
    value: "",
    language: "plaintext",
    theme: "vs-dark",
    automaticLayout: true,
    wordWrap: "on",
    lineNumbers: "off",
    glyphMargin: false,
    folding: false,
    minimap: {enabled: false},
    scrollBeyondLastLine: false,
    renderLineHighlight: "none",
    overviewRulerLanes: 0,
    quickSuggestions: false,
    suggestOnTriggerCharacters: false,
    wordBasedSuggestions: "off",
    contextmenu: false,
    fontSize: 17,
    fontFamily: "DejaVu Sans Mono, monospace",
    placeholder: host.dataset.placeholder,
  });
  editor.onKeyDown((event) => {
    if (event.keyCode === monaco.KeyCode.Enter && !event.shiftKey && !event.altKey && !event.ctrlKey) {
      event.preventDefault();
      event.stopPropagation();
      page.enter();
    }
  });
  editor.onDidChangeModelContent(() => page.changed());
  return {
    getText: () => editor.getValue(),
    clear: () => editor.setValue(""),
    focus: () => editor.focus(),
  };
});
