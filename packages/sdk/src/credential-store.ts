/**
 * The credential store: where `register()` leaves an agent's credentials and where `new Bursar()`
 * and the CLI find them. The default is a directory (`BURSAR_CONFIG_DIR`, else `~/.bursar`):
 *
 * ```
 * ~/.bursar/                      mode 0700
 *   credentials.json              mode 0600  {version, client_id, base_url, key_path, algorithm,
 *                                              scopes, agent_id, tenant_id, fingerprint, created_at}
 *   <client_id>.key.pem           mode 0600  the private key, PKCS#8 PEM ("BEGIN PRIVATE KEY")
 *   journal-trust.json            mode 0600  the last verified journal checkpoint per log origin
 * ```
 *
 * `key_path` is relative to the directory (or absolute). Every file is written to a temporary
 * name in the same directory, synced, then renamed over the old one, so a crash leaves the old
 * file or the new one, never half of one; the key is written before `credentials.json` names it.
 *
 * Clustered hosts plug in their own `CredentialStore` (a secret manager, a database row): the
 * SDK only calls `load` and `save`.
 */
import { ConfigError } from "./errors.ts";
import { envVar } from "./env.ts";
import type { SigningAlgorithm } from "./jose.ts";
import { credentialFileBytesMax } from "./limits.ts";
import type { JournalCheckpoint } from "./types.ts";

/** An agent's credentials: what `credentials.json` holds, plus the key itself. */
export interface AgentCredentials {
  clientId: string;
  baseUrl: string;
  algorithm: SigningAlgorithm;
  scopes: string[];
  agentId: string;
  tenantId: string;
  fingerprint: string;
  createdAt: string;
  /** The private key, PKCS#8 PEM. */
  privateKeyPem: string;
  /** Where the file store keeps the key: default `<dir>/<client_id>.key.pem`. */
  keyPath?: string;
}

/** What the journal verifier remembers between runs for one log. */
export interface JournalTrust {
  /** The signed-note verifier key first trusted for this log. */
  verifierKey: string;
  /** The last checkpoint that verified (signature and consistency with the one before). */
  checkpoint: JournalCheckpoint;
}

/** Where agent credentials (and journal trust) live. */
export interface CredentialStore {
  /** The stored credentials, or null when there are none. */
  load(): Promise<AgentCredentials | null>;
  /** Replaces the stored credentials, atomically. */
  save(credentials: AgentCredentials): Promise<void>;
  /** The remembered journal state of one log (`origin`), if this store keeps one. */
  loadJournalTrust?(origin: string): Promise<JournalTrust | null>;
  saveJournalTrust?(origin: string, trust: JournalTrust): Promise<void>;
}

/** `credentials.json` on disk (snake_case, versioned). */
interface CredentialsFile {
  version: 1;
  client_id: string;
  base_url: string;
  key_path: string;
  algorithm: SigningAlgorithm;
  scopes: string[];
  agent_id: string;
  tenant_id: string;
  fingerprint: string;
  created_at: string;
}

type Fs = typeof import("node:fs/promises");
type Path = typeof import("node:path");

// Loaded on first use, so the SDK still loads where there is no file system.
async function nodeModules(): Promise<{ fs: Fs; path: Path; homedir: string }> {
  const [fs, path, os] = await Promise.all([import("node:fs/promises"), import("node:path"), import("node:os")]);
  return { fs, path, homedir: os.homedir() };
}

/** The credential directory: `dir`, else `BURSAR_CONFIG_DIR`, else `~/.bursar`. */
export async function configDirectory(dir?: string): Promise<string> {
  const { path, homedir } = await nodeModules();
  return path.resolve(dir ?? envVar("BURSAR_CONFIG_DIR") ?? path.join(homedir, ".bursar"));
}

/** The default store: files in a directory, private to the user (see the layout above). */
export class FileCredentialStore implements CredentialStore {
  private readonly dirOption: string | undefined;

  /** `dir` defaults to `BURSAR_CONFIG_DIR`, then `~/.bursar`, resolved when first used. */
  constructor(options: { dir?: string } = {}) {
    this.dirOption = options.dir;
  }

  /** The directory this store uses. */
  directory(): Promise<string> {
    return configDirectory(this.dirOption);
  }

  async load(): Promise<AgentCredentials | null> {
    const { path } = await nodeModules();
    const dir = await this.directory();
    const text = await this.readSmall(path.join(dir, "credentials.json"));
    if (text === null) return null;
    let file: CredentialsFile;
    try {
      file = JSON.parse(text) as CredentialsFile;
    } catch {
      throw new ConfigError(`${path.join(dir, "credentials.json")} is not JSON`);
    }
    if (file.version !== 1 || typeof file.client_id !== "string" || typeof file.key_path !== "string" || typeof file.base_url !== "string") {
      throw new ConfigError(`${path.join(dir, "credentials.json")} is not a Bursar credentials file (version 1)`);
    }
    const keyPath = path.resolve(dir, file.key_path);
    const privateKeyPem = await this.readSmall(keyPath);
    if (privateKeyPem === null) throw new ConfigError(`the key file ${keyPath} named by credentials.json is missing`);
    return {
      clientId: file.client_id,
      baseUrl: file.base_url,
      algorithm: file.algorithm,
      scopes: file.scopes ?? [],
      agentId: file.agent_id,
      tenantId: file.tenant_id,
      fingerprint: file.fingerprint,
      createdAt: file.created_at,
      privateKeyPem,
      keyPath,
    };
  }

  async save(credentials: AgentCredentials): Promise<void> {
    const { path } = await nodeModules();
    const dir = await this.ensureDirectory();
    // A key path outside the directory is written where asked (its directory must exist).
    const keyFile = credentials.keyPath ? path.resolve(credentials.keyPath) : `${credentials.clientId}.key.pem`;
    await this.writeAtomically(keyFile, credentials.privateKeyPem);
    const file: CredentialsFile = {
      version: 1,
      client_id: credentials.clientId,
      base_url: credentials.baseUrl,
      key_path: path.isAbsolute(keyFile) && path.dirname(keyFile) === dir ? path.basename(keyFile) : keyFile,
      algorithm: credentials.algorithm,
      scopes: credentials.scopes,
      agent_id: credentials.agentId,
      tenant_id: credentials.tenantId,
      fingerprint: credentials.fingerprint,
      created_at: credentials.createdAt,
    };
    await this.writeAtomically("credentials.json", JSON.stringify(file, null, 2) + "\n");
  }

  async loadJournalTrust(origin: string): Promise<JournalTrust | null> {
    const { path } = await nodeModules();
    const text = await this.readSmall(path.join(await this.directory(), "journal-trust.json"));
    if (text === null) return null;
    const all = JSON.parse(text) as Record<string, JournalTrust>;
    return all[origin] ?? null;
  }

  async saveJournalTrust(origin: string, trust: JournalTrust): Promise<void> {
    const { path } = await nodeModules();
    const text = await this.readSmall(path.join(await this.ensureDirectory(), "journal-trust.json"));
    const all = text === null ? {} : (JSON.parse(text) as Record<string, JournalTrust>);
    all[origin] = trust;
    await this.writeAtomically("journal-trust.json", JSON.stringify(all, null, 2) + "\n");
  }

  /** Creates the directory (0700) if needed; an existing one is tightened to 0700. */
  private async ensureDirectory(): Promise<string> {
    const { fs } = await nodeModules();
    const dir = await this.directory();
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.chmod(dir, 0o700);
    return dir;
  }

  private async readSmall(file: string): Promise<string | null> {
    const { fs } = await nodeModules();
    let handle;
    try {
      handle = await fs.open(file, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size > credentialFileBytesMax) throw new ConfigError(`${file} is larger than ${credentialFileBytesMax} bytes`);
      return await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  }

  /**
   * Write to a temporary file (0600) beside the target, fsync, rename over the target, fsync the
   * directory. `name` is relative to the store's directory, or absolute.
   */
  private async writeAtomically(name: string, content: string): Promise<void> {
    const { fs, path } = await nodeModules();
    const target = path.resolve(await this.ensureDirectory(), name);
    const dir = path.dirname(target);
    name = path.basename(target);
    const temporary = path.join(dir, `.${name}.${crypto.randomUUID()}.tmp`);
    const handle = await fs.open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temporary, target);
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw error;
    }
    // The rename is durable once the directory entry is; not every platform can open a directory.
    const directory = await fs.open(dir, "r").catch(() => null);
    if (directory) {
      await directory.sync().catch(() => undefined);
      await directory.close();
    }
  }
}
