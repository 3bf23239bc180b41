// Lexical as the chat input: rich text (paragraphs; Shift+Enter a line break), or plain text
// when the page asks for it, with history.
import {$createParagraphNode, $getRoot, COMMAND_PRIORITY_HIGH, KEY_ENTER_COMMAND, createEditor} from "lexical";
import {registerRichText} from "@lexical/rich-text";
import {registerPlainText} from "@lexical/plain-text";
import {createEmptyHistoryState, registerHistory} from "@lexical/history";
import {startChatPage} from "./chatpage.js";

startChatPage((host, page) => {
  const plain = host.dataset.variant === "plain";
  const field = document.createElement("div");
  field.className = "lexical";
  field.contentEditable = "true";
  field.spellcheck = false;
  field.setAttribute("role", "textbox");
  host.appendChild(field);
  const editor = createEditor({namespace: "chat", onError: (error) => console.error(error)});
  editor.setRootElement(field);
  if (plain) registerPlainText(editor); else registerRichText(editor);
  registerHistory(editor, createEmptyHistoryState(), 300);
  editor.registerCommand(KEY_ENTER_COMMAND, (event) => {
    if (event && event.shiftKey) return false;  // the editor's own new line
    if (event) event.preventDefault();
    page.enter();
    return true;
  }, COMMAND_PRIORITY_HIGH);
  editor.registerUpdateListener(({dirtyElements, dirtyLeaves, prevEditorState, editorState}) => {
    if ((dirtyElements.size || dirtyLeaves.size) && prevEditorState !== editorState) page.changed();
  });
  const text = () => editor.getEditorState().read(() => $getRoot().getTextContent());
  return {
    getText: text,
    clear: () => editor.update(() => {
      const root = $getRoot();
      root.clear();
      root.append($createParagraphNode());
      root.selectEnd();
    }, {discrete: true}),
    focus: () => field.focus(),
  };
});
