// A real Baton for the tests: the binary built once per test process from this checkout, served
// on a loopback port over an embedded SQLite database in a temporary directory.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The checkout's root: the nearest directory above this file with a go.mod. */
function repoRoot(): string {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "go.mod"))) return dir;
  }
  throw new Error("no go.mod above " + import.meta.dirname);
}

let built: Promise<string> | undefined;

/** The baton binary: $BATON_BIN, or built from this checkout once per process. */
export function binary(): Promise<string> {
  if (process.env.BATON_BIN) return Promise.resolve(process.env.BATON_BIN);
  built ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), "baton-bin-")), "baton");
    await run("go", ["build", "-o", out, "./server/cmd/baton"], { cwd: repoRoot() });
    return out;
  })();
  return built;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

/** A Baton server the test controls. */
export class Server {
  readonly dataDir = mkdtempSync(join(tmpdir(), "baton-data-"));
  private proc?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly bin: string,
    readonly port: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Builds (once) and starts a server. */
  static async start(): Promise<Server> {
    const s = new Server(await binary(), await freePort());
    await s.resume();
    return s;
  }

  /** Creates an API key directly in the database and returns its secret. */
  async key(role: "admin" | "bot" | "agent" | "service", subject = ""): Promise<string> {
    const args = ["keys", "create", "--role", role, "--data-dir", this.dataDir];
    if (subject) args.push("--subject", subject);
    const { stdout } = await run(this.bin, args);
    return stdout.trim();
  }

  /** Starts the server (again) on the same port and data, and waits until it answers. */
  async resume(): Promise<void> {
    const proc = spawn(this.bin, ["serve", "--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    proc.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    this.proc = proc;
    this.exited = new Promise((ok) => proc.once("exit", () => ok()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`baton serve exited: ${stderr}`);
      try {
        const res = await fetch(`${this.baseUrl}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`baton serve did not answer: ${stderr}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  /** Stops the server and waits for it to exit. */
  async stop(): Promise<void> {
    this.proc?.kill("SIGTERM");
    await this.exited;
    this.proc = undefined;
  }
}

/** Runs a compiled example (dist/client/ts/examples) with env, bounded to 60 s. */
export function spawnExample(file: string, env: Record<string, string>): { exited: Promise<number | null>; stderr: () => string } {
  const path = join(import.meta.dirname, "..", "examples", file);
  const proc = spawn(process.execPath, [path], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
  let stderr = "";
  proc.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  return { exited: new Promise((ok) => proc.once("exit", (code) => ok(code))), stderr: () => stderr };
}
