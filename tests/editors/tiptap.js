// Tiptap as the chat input: its StarterKit (paragraphs, marks and their input and paste rules,
// lists, headings, history); Shift+Enter is StarterKit's hard break.
import {Editor, Extension} from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import {startChatPage} from "./chatpage.js";

startChatPage((host, page) => {
  const Send = Extension.create({
    name: "send",
    priority: 1000,
    addKeyboardShortcuts() {
      return {Enter: () => { page.enter(); return true; }};
    },
  });
  const editor = new Editor({
    element: host,
    extensions: [StarterKit, Send],
    content: "",
    onUpdate: () => page.changed(),
  });
  return {
    getText: () => editor.getText({blockSeparator: "\n"}),
    clear: () => editor.commands.clearContent(true),
    focus: () => editor.commands.focus(),
  };
});
