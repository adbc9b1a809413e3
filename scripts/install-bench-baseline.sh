#!/usr/bin/env bash
# Installs the baseline that connector-bench --minisearch compares against (a
# plain TypeScript MCP server over MiniSearch, with Node 22 as an npm
# package) into bench/minisearch/node_modules.
exec "$(dirname "$0")/install-client-tools.sh" bench/minisearch "bench baseline"
