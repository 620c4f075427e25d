// Builds the agent console and the web-chat widget into server/web/dist, where the Go binary
// embeds them, and prints each bundle's gzipped size against its budget (failing above it).
// The output is committed; CI rebuilds and fails when it differs.
import { create, toBinary } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

const web = import.meta.dirname;
const out = join(web, "..", "server", "web", "dist");

// Gzipped budgets, in bytes, of everything each app loads.
const budgets = {
  console: { limit: 250 * 1024, files: ["console/index.html", "console/console.js", "console/console.css"] },
  widget: { limit: 60 * 1024, files: ["chat/widget.js"] },
};

/**
 * The widget never reads validation rules, yet every generated file that uses them imports
 * buf/validate/validate.proto's descriptor, which is mostly the rules' CEL text (about 70 KB,
 * more than the rest of the widget). For the widget, that import becomes an empty file of the
 * same name: the descriptors still link, and the rules stay undecoded options, as unknown
 * fields. The console keeps the real one (it reads field violations).
 */
const withoutValidationRules = {
  name: "without-validation-rules",
  setup(b) {
    b.onResolve({ filter: /buf\/validate\/validate_pb\.js$/ }, (args) => ({ path: args.path, namespace: "empty-validate" }));
    b.onLoad({ filter: /.*/, namespace: "empty-validate" }, () => {
      const empty = create(FileDescriptorProtoSchema, { name: "buf/validate/validate.proto", package: "buf.validate" });
      return {
        contents: `import { fileDesc } from "@bufbuild/protobuf/codegenv2";
export const file_buf_validate_validate = fileDesc(${JSON.stringify(base64Encode(toBinary(FileDescriptorProtoSchema, empty), "std_raw"))});`,
        loader: "js",
        resolveDir: web,
      };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  // The widget's stylesheet is adopted into its shadow root, so it is bundled as text.
  loader: { ".css": "css", ".widget.css": "text" },
  tsconfig: join(web, "tsconfig.json"),
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
};

rmSync(out, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { "console/console": join(web, "console", "main.tsx"), "chat/demo": join(web, "chat", "demo.ts") },
  outdir: out,
});
await build({
  ...common,
  entryPoints: { "chat/widget": join(web, "chat", "widget.tsx") },
  outdir: out,
  plugins: [withoutValidationRules],
});
for (const [from, to] of [
  ["console/index.html", "console/index.html"],
  ["chat/index.html", "chat/index.html"],
]) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(web, from), join(out, to));
}

let over = false;
for (const [name, { limit, files }] of Object.entries(budgets)) {
  const size = files.reduce((n, f) => n + gzipSync(readFileSync(join(out, f)), { level: 9 }).length, 0);
  const verdict = size <= limit ? "ok" : "OVER BUDGET";
  over ||= size > limit;
  console.log(`${name.padEnd(8)} ${(size / 1024).toFixed(1).padStart(6)} KB gzipped (budget ${limit / 1024} KB) ${verdict}`);
}
if (over) process.exit(1);
