import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { makePrivate, sqliteFiles } from '../../core/privateFiles.js';
import { timingSafeEqual } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { isKithError, VaultError } from '../../core/errors.js';
import { AgreementRepo } from './agreementRepo.js';
import { ConsentRepo } from './consentRepo.js';
import { VaultContext, type SkippedRecord } from './context.js';
import { CredentialRepo } from './credentialRepo.js';
import { deriveRowKeys } from './crypto.js';
import { DeliveryRepo } from './deliveryRepo.js';
import { DisclosedFieldRepo } from './disclosedFieldRepo.js';
import { DisclosureRequestRepo } from './disclosureRequestRepo.js';
import { existingCompanionFiles, removeVaultFiles } from './files.js';
import { IntentRecipientRepo } from './intentRecipientRepo.js';
import { IntentRepo } from './intentRepo.js';
import { newDataKey, parseKeyring, resolveScryptParams, unwrapDataKey, wrapDataKey, type ScryptParams } from './keyring.js';
import { KeyRepo } from './keyRepo.js';
import { MessageRepo } from './messageRepo.js';
import { OfferRepo } from './offerRepo.js';
import { OutboxRepo } from './outboxRepo.js';
import { PersonaRepo } from './personaRepo.js';
import { ProfileRepo } from './profileRepo.js';
import { ReceiptRepo } from './receiptRepo.js';
import { VerificationRepo } from './verificationRepo.js';
import { AccountIdRepo } from './accountIdRepo.js';
import { ServiceCaseRepo } from './serviceCaseRepo.js';
import { ThingRepo } from './thingRepo.js';
import { ThingReceiptRepo } from './thingReceiptRepo.js';
import { AttachmentRepo, type AttachmentLimits } from './attachmentRepo.js';
import { RelationshipRepo } from './relationshipRepo.js';
import { applyPragmas, createSchema, MIGRATABLE_SCHEMA_VERSIONS, SCHEMA_VERSION } from './schema.js';
import { SeenRepo } from './seenRepo.js';
import { SettingsRepo } from './settingsRepo.js';
import { isCorruptionError, translateDiskFull } from './sqliteErrors.js';

export interface VaultOptions {
  /**
   * scrypt parameters for wrapping the data key (create, changePassphrase). Opening always uses
   * the parameters stored in the vault. Defaults: N=2^17, r=8, p=1.
   */
  kdf?: { N?: number; r?: number; p?: number };
  clock?: Clock;
  /** How large her documents may be (default DEFAULT_ATTACHMENT_LIMITS: 10 MiB a file, 1 GiB in all). */
  attachmentLimits?: AttachmentLimits;
}

const META_KEYRING = 'keyring';
const META_SCHEMA_VERSION = 'schema_version';
const metaRowSchema = z.object({ value: z.string() });

/**
 * The personal vault: one SQLite file whose personal values are all encrypted under a data key
 * that only the passphrase unlocks. Synchronous by design: one user, one local agent.
 */
export class Vault {
  /** Absolute path of the database file. */
  readonly path: string;
  readonly clock: Clock;
  readonly relationships: RelationshipRepo;
  readonly keys: KeyRepo;
  readonly messages: MessageRepo;
  readonly receipts: ReceiptRepo;
  readonly verifications: VerificationRepo;
  readonly accountIds: AccountIdRepo;
  readonly outbox: OutboxRepo;
  readonly seen: SeenRepo;
  readonly settings: SettingsRepo;
  /** Her profile fields and their versioned change log. */
  readonly profile: ProfileRepo;
  /** Her personas: several selves, each with its own profile values. */
  readonly personas: PersonaRepo;
  /** Profile changes owed to companies (`profile_deliveries`). */
  readonly deliveries: DeliveryRepo;
  readonly disclosureRequests: DisclosureRequestRepo;
  readonly consents: ConsentRepo;
  /** What each company holds of her (`disclosed_fields`). */
  readonly disclosed: DisclosedFieldRepo;
  /** Credentials issuers gave her; their holder keys are in {@link keys}. */
  readonly credentials: CredentialRepo;
  /** Her terms agreement records (IEEE 7012-style), at most one agreed per relationship. */
  readonly agreements: AgreementRepo;
  /** Her intents (what she wants, cast to companies); see {@link intentRecipients} and {@link offers}. */
  readonly intents: IntentRepo;
  /** The companies each intent was cast to, each with its own intent id. */
  readonly intentRecipients: IntentRecipientRepo;
  /** The signed offers companies answered her intents with. */
  readonly offers: OfferRepo;
  /** Her things, their contracts and the companies linked to each by role. */
  readonly things: ThingRepo;
  /** Signed receipts sellers sent her, pending her answer (docs/protocol/thing.md). */
  readonly thingReceipts: ThingReceiptRepo;
  /** The documents she keeps with her things, each file encrypted. */
  readonly attachments: AttachmentRepo;
  /** The service cases she opened about her things, each with its thread (docs/protocol/service.md). */
  readonly serviceCases: ServiceCaseRepo;
  readonly #db: Database.Database;
  readonly #ctx: VaultContext;
  readonly #dataKey: Buffer;
  readonly #kdf: ScryptParams;

  private constructor(path: string, db: Database.Database, dataKey: Buffer, kdf: ScryptParams, clock: Clock, attachmentLimits?: AttachmentLimits) {
    this.path = path;
    this.clock = clock;
    this.#db = db;
    this.#dataKey = dataKey;
    this.#kdf = kdf;
    this.#ctx = new VaultContext(db, deriveRowKeys(dataKey), clock);
    this.relationships = new RelationshipRepo(this.#ctx);
    this.keys = new KeyRepo(this.#ctx);
    this.messages = new MessageRepo(this.#ctx);
    this.receipts = new ReceiptRepo(this.#ctx);
    this.verifications = new VerificationRepo(this.#ctx);
    this.accountIds = new AccountIdRepo(this.#ctx);
    this.serviceCases = new ServiceCaseRepo(this.#ctx);
    this.outbox = new OutboxRepo(this.#ctx);
    this.seen = new SeenRepo(this.#ctx);
    this.settings = new SettingsRepo(this.#ctx);
    this.profile = new ProfileRepo(this.#ctx);
    this.personas = new PersonaRepo(this.#ctx);
    this.deliveries = new DeliveryRepo(this.#ctx);
    this.disclosureRequests = new DisclosureRequestRepo(this.#ctx);
    this.consents = new ConsentRepo(this.#ctx);
    this.disclosed = new DisclosedFieldRepo(this.#ctx);
    this.credentials = new CredentialRepo(this.#ctx);
    this.agreements = new AgreementRepo(this.#ctx);
    this.intents = new IntentRepo(this.#ctx);
    this.intentRecipients = new IntentRecipientRepo(this.#ctx);
    this.offers = new OfferRepo(this.#ctx);
    this.things = new ThingRepo(this.#ctx);
    this.thingReceipts = new ThingReceiptRepo(this.#ctx);
    this.attachments = new AttachmentRepo(this.#ctx, attachmentLimits);
  }

  /**
   * Creates a new vault file (mode 0600, parent directories created 0700) with a fresh data key.
   * @throws VaultError `vault.exists` if a file (or leftover WAL/SHM files) is already at `path`,
   * `vault.passphrase_required` for an empty passphrase; ConfigError `config.invalid` for bad
   * KDF options. On failure no file is left behind.
   */
  static create(path: string, passphrase: string, options: VaultOptions = {}): Vault {
    requirePassphrase(passphrase);
    const kdf = resolveScryptParams(options.kdf);
    const file = resolve(path);
    // A stale -wal without its database would be replayed into the new file by SQLite.
    if (existingCompanionFiles(file).length > 0) {
      throw new VaultError('vault.exists', 'Leftover vault journal files are in the way of a new vault');
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx' creates exclusively, so two concurrent `create`s cannot both succeed.
      closeSync(openSync(file, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new VaultError('vault.exists', 'A vault already exists at this path');
      }
      throw err;
    }
    const dataKey = newDataKey();
    let db: Database.Database | undefined;
    try {
      const opened = new Database(file, { fileMustExist: true });
      db = opened;
      applyPragmas(opened);
      const keyring = wrapDataKey(dataKey, passphrase, kdf);
      opened.transaction(() => {
        createSchema(opened);
        const insert = opened.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        insert.run(META_KEYRING, JSON.stringify(keyring));
        insert.run(META_SCHEMA_VERSION, String(SCHEMA_VERSION));
      })();
      const vault = new Vault(file, opened, dataKey, kdf, options.clock ?? systemClock, options.attachmentLimits);
      vault.personas.ensureFirst();
      return vault;
    } catch (err) {
      db?.close();
      dataKey.fill(0);
      removeVaultFiles(file);
      throw err;
    }
  }

  /**
   * Unlocks an existing vault. Nothing is written before the passphrase is proven, so a wrong
   * passphrase leaves the files byte for byte unchanged. A vault of an older schema version
   * ({@link MIGRATABLE_SCHEMA_VERSIONS}) is then upgraded in one transaction.
   * @throws VaultError `vault.not_initialized` if there is no file, `vault.passphrase_required`
   * for an empty passphrase, `vault.wrong_passphrase`, `vault.corrupt` if the file is not a vault,
   * its key metadata is unreadable or its schema version unknown; ConfigError `config.invalid` for
   * bad KDF options.
   */
  static open(path: string, passphrase: string, options: VaultOptions = {}): Vault {
    const file = resolve(path);
    if (!existsSync(file)) throw new VaultError('vault.not_initialized', `nothing at ${file}; create one with \`kith init\``);
    requirePassphrase(passphrase);
    // A vault copied or restored with looser modes is the owner's only again (SQLite gives the
    // -wal and -shm it creates the database file's mode).
    makePrivate(...sqliteFiles(file));
    const kdf = resolveScryptParams(options.kdf);
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: true });
    } catch (cause) {
      throw new VaultError('vault.corrupt', 'The vault file cannot be opened', { cause });
    }
    let dataKey: Buffer | undefined;
    try {
      // A read-only *connection* would leave empty -wal/-shm files behind; a read-write one that
      // refuses writes cleans up after itself on close.
      db.pragma('query_only = ON');
      const keyring = parseKeyring(readMeta(db, META_KEYRING));
      dataKey = unwrapDataKey(keyring, passphrase);
      const stored = readMeta(db, META_SCHEMA_VERSION);
      const migrate = stored !== undefined && MIGRATABLE_SCHEMA_VERSIONS.includes(stored);
      if (stored !== String(SCHEMA_VERSION) && !migrate) {
        throw new VaultError('vault.corrupt', 'The vault has an unknown schema version');
      }
      db.pragma('query_only = OFF');
      applyPragmas(db);
      if (migrate) migrateSchema(db);
      const vault = new Vault(file, db, dataKey, kdf, options.clock ?? systemClock, options.attachmentLimits);
      // A vault from before personas gets its first one: the persona its profile already belongs to.
      vault.personas.ensureFirst();
      return vault;
    } catch (err) {
      db.close();
      dataKey?.fill(0);
      if (isKithError(err)) throw err;
      if (isCorruptionError(err)) throw new VaultError('vault.corrupt', 'The file is not a readable vault', { cause: err });
      throw err;
    }
  }

  /** True if a vault file exists at `path` (it is not unlocked or checked). */
  static exists(path: string): boolean {
    return existsSync(resolve(path));
  }

  /** False once {@link close} has run. */
  get isOpen(): boolean {
    return !this.#ctx.closed;
  }

  /**
   * Rewraps the data key under a new passphrase (new salt; KDF parameters from the options this
   * vault was opened with, else the defaults). Row blobs are untouched. The old wrapped key is
   * zeroed in the file (secure_delete) and checkpointed out of the WAL.
   * @throws VaultError `vault.wrong_passphrase` if `oldPassphrase` is wrong,
   * `vault.passphrase_required` if the new one is empty, `vault.locked` after close.
   */
  changePassphrase(oldPassphrase: string, newPassphrase: string): void {
    const db = this.#ctx.db;
    requirePassphrase(newPassphrase);
    const stored = unwrapDataKey(parseKeyring(readMeta(db, META_KEYRING)), oldPassphrase);
    try {
      if (!timingSafeEqual(stored, this.#dataKey)) {
        throw new VaultError('vault.corrupt', 'The stored data key differs from the unlocked one');
      }
    } finally {
      stored.fill(0);
    }
    const keyring = wrapDataKey(this.#dataKey, newPassphrase, this.#kdf);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(JSON.stringify(keyring), META_KEYRING);
    this.#ctx.scrubWal();
  }

  /**
   * Changes whenever anything in the vault may have changed (a write on this connection, a commit
   * by another), or undefined inside a transaction (what is read there may yet roll back): what a
   * view kept between calls is keyed by (her things list).
   */
  contentVersion(): string | undefined {
    return this.#ctx.db.inTransaction ? undefined : this.#ctx.contentVersion();
  }

  /** Runs `fn` in one SQLite transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    const db = this.#ctx.db;
    try {
      return db.transaction(fn)();
    } catch (err) {
      throw translateDiskFull(err);
    } finally {
      this.#ctx.afterTransaction();
    }
  }

  /**
   * Runs `fn` (which reads lists) in one transaction as a salvage pass: records that do not open
   * are left out of the lists and named in `skipped` (table and row id). For `kith export --salvage`
   * and the start-up check; everything else fails closed on a corrupt record.
   */
  salvaging<T>(fn: () => T): { value: T; skipped: SkippedRecord[] } {
    return this.transaction(() => this.#ctx.salvaging(fn));
  }

  /**
   * Every row of every table, blobs as hex: a cheap way for tests to prove "nothing changed".
   * @throws VaultError `vault.locked` after close.
   */
  snapshot(): Record<string, unknown[]> {
    const db = this.#ctx.db;
    const names = z
      .array(z.string())
      .parse(
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all(),
      );
    const out: Record<string, unknown[]> = {};
    for (const name of names) {
      const rows = db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}" ORDER BY 1`).all() as Record<string, unknown>[];
      out[name] = rows.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v])),
      );
    }
    return out;
  }

  /** Closes the database and zeroes the keys held in memory. Idempotent. */
  close(): void {
    if (this.#ctx.closed) return;
    this.#ctx.close();
    this.#dataKey.fill(0);
    this.#db.close();
  }
}

/**
 * Brings an older vault to {@link SCHEMA_VERSION}: every change so far only adds tables and
 * indexes, so creating the missing ones and recording the new version is the whole migration.
 */
function migrateSchema(db: Database.Database): void {
  db.transaction(() => {
    createSchema(db);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(SCHEMA_VERSION), META_SCHEMA_VERSION);
  })();
}

function readMeta(db: Database.Database, key: string): string | undefined {
  const raw: unknown = db.prepare('SELECT value FROM meta WHERE key = ?').get(key);
  if (raw === undefined) return undefined;
  const parsed = metaRowSchema.safeParse(raw);
  if (!parsed.success) throw new VaultError('vault.corrupt', 'The vault metadata is unreadable');
  return parsed.data.value;
}

function requirePassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new VaultError('vault.passphrase_required', 'A non-empty passphrase is required');
  }
}
