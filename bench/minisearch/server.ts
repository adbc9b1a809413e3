// The baseline connector-bench measures the connector against: a plain
// TypeScript MCP server, written as the official SDK's stateless example
// is, over an in-memory MiniSearch index of a JSON Lines corpus.
//
//   node --experimental-strip-types server.ts CORPUS.jsonl [PORT]
//
// CORPUS.jsonl has one {"id","title","text","url"?} object a line. PORT (or
// the PORT environment variable) defaults to 0, any free port. Once the
// corpus is indexed it prints "listening 127.0.0.1:PORT" on stdout and
// serves MCP's Streamable HTTP transport at /mcp, with two tools: search
// {query} and fetch {id}.

import { createReadStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import MiniSearch from "minisearch";
import * as z from "zod";

type Doc = { id: string; title: string; text: string; url?: string };

const snippetChars = 300;
const maxResults = 10;

// load indexes the corpus, a line at a time, so that a large one is never
// held as a whole string. A repeated id keeps its first document.
async function load(path: string): Promise<MiniSearch<Doc>> {
  const index = new MiniSearch<Doc>({
    fields: ["title", "text"],
    storeFields: ["title", "text", "url"],
    // Typo-tolerant, as the connector is (its fuzzy fallback) and as MiniSearch's documentation shows it.
    searchOptions: { boost: { title: 2 }, prefix: false, fuzzy: 0.2 },
  });
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let d: Doc;
    try {
      d = JSON.parse(line);
    } catch (err) {
      throw new Error(`${path}:${n}: ${(err as Error).message}`);
    }
    if (typeof d.id !== "string" || d.id === "" || index.has(d.id)) continue;
    index.add({ id: d.id, title: d.title ?? "", text: d.text ?? "", url: d.url ?? "" });
  }
  return index;
}

function text(value: unknown, isError = false) {
  return { content: [{ type: "text" as const, text: typeof value === "string" ? value : JSON.stringify(value) }], isError };
}

// newServer returns an MCP server with the two tools over index: one per
// request, as in the SDK's stateless example.
function newServer(index: MiniSearch<Doc>): McpServer {
  const server = new McpServer({ name: "minisearch-baseline", version: "1.0.0" });
  server.registerTool(
    "search",
    { description: "Search the documents; returns the best matches, best first.", inputSchema: { query: z.string() } },
    async ({ query }) => {
      const results = index.search(query).slice(0, maxResults).map((r) => ({
        id: String(r.id),
        title: r.title ?? "",
        url: r.url ?? "",
        snippet: String(r.text ?? "").slice(0, snippetChars),
      }));
      return text({ results });
    },
  );
  server.registerTool(
    "fetch",
    { description: "Fetch a document's full text by the id search gave.", inputSchema: { id: z.string() } },
    async ({ id }) => {
      const d = index.getStoredFields(id);
      if (d === undefined) return text(`no document with id ${JSON.stringify(id)}`, true);
      return text({ id, title: d.title ?? "", text: d.text ?? "", url: d.url ?? "", metadata: {} });
    },
  );
  return server;
}

async function main(): Promise<void> {
  const [corpus, portArg] = process.argv.slice(2);
  if (!corpus) {
    console.error("usage: node --experimental-strip-types server.ts CORPUS.jsonl [PORT]");
    process.exit(2);
  }
  const port = Number(portArg ?? process.env.PORT ?? 0);
  const index = await load(corpus);

  const http = createServer(async (req, res) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { Allow: "POST" }).end();
      return;
    }
    const server = newServer(index);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      transport.close();
      server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      console.error("request:", err);
      if (!res.headersSent) {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null }));
      }
    }
  });
  // Keep idle connections open as long as the benchmark's client does, so
  // that no call races a connection the server is closing.
  http.keepAliveTimeout = 60_000;
  http.headersTimeout = 61_000;
  http.listen(port, "127.0.0.1", () => {
    const addr = http.address() as AddressInfo;
    console.log(`listening 127.0.0.1:${addr.port}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
