// Builds the console into ../functions/console/static: one hashed JS bundle, one hashed CSS file,
// and index.html naming them. No inline script or style, so the CSP needs no 'unsafe-inline'.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "functions", "console", "static");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, "src", "main.jsx")],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  outdir: out,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.endsWith(".js"));
const style = outputs.find((f) => f.endsWith(".css"));
const iconData = readFileSync(join(here, "src", "icon.svg"));
const icon = `icon-${createHash("sha256").update(iconData).digest("hex").slice(0, 8)}.svg`;
writeFileSync(join(out, icon), iconData);
const html = readFileSync(join(here, "src", "index.html"), "utf8")
  .replace("%SCRIPT%", script)
  .replace("%STYLE%", style)
  .replace("%ICON%", icon);
writeFileSync(join(out, "index.html"), html);
console.log(`console built: ${[...outputs, icon].join(", ")}, index.html -> ${out}`);
