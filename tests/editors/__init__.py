"""Chat pages built from the real web editors (Monaco, ProseMirror, Tiptap, Lexical,
CodeMirror 6), installed and bundled by ``install.sh``, for the display tests and
``bench/editors.py``."""
