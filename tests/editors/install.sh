#!/usr/bin/env bash
# Install the real web editors the chat pages of the tests are built from, at pinned versions,
# once per machine, and bundle one page script per editor with esbuild: Monaco (VS Code's
# editor), ProseMirror, Tiptap, Lexical and CodeMirror 6.
# The packages go into a cache folder named after their versions, the bundles into a folder of
# it named after the page scripts, so a second run (offline too) installs and bundles nothing.
# Prints the bundles' folder; the tests find it through CELLPHONE_TEST_EDITORS.
set -euo pipefail

PACKAGES=(
    monaco-editor@0.57.0
    prosemirror-state@1.4.4 prosemirror-view@1.44.0 prosemirror-model@1.25.13
    prosemirror-schema-basic@1.2.5 prosemirror-keymap@1.2.3 prosemirror-commands@1.7.2
    prosemirror-history@1.5.2
    @tiptap/core@3.35.0 @tiptap/starter-kit@3.35.0 @tiptap/pm@3.35.0
    lexical@0.52.0 @lexical/rich-text@0.52.0 @lexical/plain-text@0.52.0 @lexical/history@0.52.0
    codemirror@6.0.2 @codemirror/state@6.7.6 @codemirror/view@6.44.2 @codemirror/commands@6.11.2
    esbuild@0.28.2
)
EDITORS=(monaco prosemirror tiptap lexical codemirror)

here="$(cd "$(dirname "$0")" && pwd)"
versions_key="$(printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -c1-16)"
scripts_key="$(cat "$here"/*.js | sha256sum | cut -c1-16)"
cache_root="${CELLPHONE_EDITOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-cellphone/editors}"
folder="$cache_root/$versions_key"
bundles="$folder/pages-$scripts_key"

if [ ! -e "$folder/.complete" ]; then
    command -v npm >/dev/null || { echo "npm is missing: install the Debian package npm" >&2; exit 1; }
    rm -rf "$folder"
    mkdir -p "$folder"
    printf '{"private": true}\n' >"$folder/package.json"
    npm install --silent --no-audit --no-fund --save-exact --prefix "$folder" "${PACKAGES[@]}" >&2
    touch "$folder/.complete"
fi

if [ ! -e "$bundles/.complete" ]; then
    rm -rf "$bundles"
    mkdir -p "$bundles"
    for editor in "${EDITORS[@]}"; do
        NODE_PATH="$folder/node_modules" "$folder/node_modules/.bin/esbuild" \
            "$here/$editor.js" --bundle --format=iife --target=chrome110 --minify \
            --log-level=warning --outfile="$bundles/$editor.js" >&2
    done
    touch "$bundles/.complete"
    find "$folder" -mindepth 1 -maxdepth 1 -name 'pages-*' ! -name "pages-$scripts_key" \
        -exec rm -rf {} +
fi
echo "$bundles"
