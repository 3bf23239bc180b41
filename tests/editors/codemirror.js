// CodeMirror 6 as the chat input: its minimal setup (history, default keys), wrapped lines.
import {minimalSetup} from "codemirror";
import {EditorState, Prec} from "@codemirror/state";
import {EditorView, keymap, placeholder} from "@codemirror/view";
import {insertNewlineAndIndent} from "@codemirror/commands";
import {startChatPage} from "./chatpage.js";

startChatPage((host, page) => {
  const sendKeys = keymap.of([
    {key: "Enter", run: () => { page.enter(); return true; }, shift: insertNewlineAndIndent},
  ]);
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: "",
      extensions: [
        Prec.highest(sendKeys),
        minimalSetup,
        EditorView.lineWrapping,
        placeholder(host.dataset.placeholder),
        EditorView.updateListener.of((update) => { if (update.docChanged) page.changed(); }),
      ],
    }),
  });
  return {
    getText: () => view.state.doc.toString(),
    clear: () => view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: ""}}),
    focus: () => view.focus(),
  };
});
