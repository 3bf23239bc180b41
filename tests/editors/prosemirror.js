// ProseMirror as the chat input: the basic schema (paragraphs, hard breaks, marks), history,
// the base keymap; Shift+Enter makes a new paragraph as the base keymap's Enter does.
import {EditorState} from "prosemirror-state";
import {EditorView} from "prosemirror-view";
import {schema} from "prosemirror-schema-basic";
import {keymap} from "prosemirror-keymap";
import {baseKeymap} from "prosemirror-commands";
import {history, redo, undo} from "prosemirror-history";
import {startChatPage} from "./chatpage.js";

startChatPage((host, page) => {
  const sendKeys = keymap({
    "Enter": () => { page.enter(); return true; },
    "Shift-Enter": baseKeymap["Enter"],
    "Mod-z": undo,
    "Mod-y": redo,
    "Shift-Mod-z": redo,
  });
  const view = new EditorView(host, {
    state: EditorState.create({schema, plugins: [history(), sendKeys, keymap(baseKeymap)]}),
    dispatchTransaction(transaction) {
      view.updateState(view.state.apply(transaction));
      if (transaction.docChanged) page.changed();
    },
  });
  const text = () => view.state.doc.textBetween(0, view.state.doc.content.size, "\n", "\n");
  return {
    getText: text,
    clear: () => view.dispatch(view.state.tr.delete(0, view.state.doc.content.size)),
    focus: () => view.focus(),
  };
});
