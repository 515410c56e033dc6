/**
 * Numbered schema migrations, applied in order at start inside one transaction each, so the database is either at
 * version N or N+1 — never half-migrated. Append new entries; never edit an applied one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'read-only')),
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until  INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
) STRICT;

-- the cookie carries a random id; only its SHA-256 is stored, so a copied database cannot be replayed as a login
CREATE TABLE sessions (
  id_hash    TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip         TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  last_used   INTEGER
) STRICT;

CREATE TABLE targets (
  id    INTEGER PRIMARY KEY,
  iqn   TEXT NOT NULL UNIQUE,
  alias TEXT
) STRICT;

CREATE TABLE portals (
  id        INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  address   TEXT NOT NULL,
  port      INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  UNIQUE (target_id, address, port)
) STRICT;

CREATE TABLE luns (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  backing     TEXT NOT NULL CHECK (backing IN ('file', 'lv')),
  path        TEXT NOT NULL UNIQUE,
  size_bytes  INTEGER NOT NULL CHECK (size_bytes > 0),
  block_size  INTEGER NOT NULL CHECK (block_size IN (512, 4096)),
  read_only   INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
  write_cache TEXT NOT NULL CHECK (write_cache IN ('write-back', 'write-through')),
  serial      TEXT NOT NULL UNIQUE,
  naa_id      TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  CHECK (size_bytes % block_size = 0)
) STRICT;

-- SPC-4 §7.8.6: initiators (ESXi, multipath) identify a LUN by its designators; changing one makes a new disk
CREATE TRIGGER luns_identity_immutable BEFORE UPDATE OF serial, naa_id ON luns
WHEN NEW.serial IS NOT OLD.serial OR NEW.naa_id IS NOT OLD.naa_id
BEGIN
  SELECT RAISE(ABORT, 'serial and naa_id never change once assigned');
END;

CREATE TABLE lun_mappings (
  id        INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  lun       INTEGER NOT NULL CHECK (lun BETWEEN 0 AND 1023),
  lun_id    INTEGER NOT NULL REFERENCES luns(id) ON DELETE RESTRICT,
  UNIQUE (target_id, lun),
  UNIQUE (target_id, lun_id)
) STRICT;

CREATE TABLE initiator_groups (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE initiator_group_members (
  group_id INTEGER NOT NULL REFERENCES initiator_groups(id) ON DELETE CASCADE,
  iqn      TEXT NOT NULL,
  PRIMARY KEY (group_id, iqn)
) STRICT;

CREATE TABLE initiator_group_networks (
  group_id INTEGER NOT NULL REFERENCES initiator_groups(id) ON DELETE CASCADE,
  cidr     TEXT NOT NULL,
  PRIMARY KEY (group_id, cidr)
) STRICT;

CREATE TABLE target_acls (
  id        INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  group_id  INTEGER NOT NULL REFERENCES initiator_groups(id) ON DELETE RESTRICT,
  UNIQUE (target_id, group_id)
) STRICT;

-- target_id NULL = discovery-session CHAP (RFC 7143 §12.1.3 applies to discovery sessions as well)
CREATE TABLE chap_credentials (
  id                   INTEGER PRIMARY KEY,
  target_id            INTEGER UNIQUE REFERENCES targets(id) ON DELETE CASCADE,
  username             TEXT NOT NULL,
  secret_enc           TEXT NOT NULL,
  mutual_username      TEXT,
  mutual_secret_enc    TEXT,
  CHECK ((mutual_username IS NULL) = (mutual_secret_enc IS NULL))
) STRICT;
CREATE UNIQUE INDEX chap_one_discovery ON chap_credentials ((target_id IS NULL)) WHERE target_id IS NULL;

CREATE TABLE audit_log (
  id     INTEGER PRIMARY KEY,
  at     INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  ip     TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
`,
  },
  {
    version: 2,
    name: 'snapshot schedules',
    // one row per schedule; the snapshots themselves live in LVM or the file pool (names auto-<id>-<UTC stamp>)
    sql: `
CREATE TABLE snapshot_schedules (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  lun_id        INTEGER NOT NULL REFERENCES luns(id) ON DELETE CASCADE,
  every_minutes INTEGER NOT NULL CHECK (every_minutes >= 5),
  preset        TEXT CHECK (preset IN ('hourly', 'daily', 'weekly')),
  keep          INTEGER NOT NULL CHECK (keep BETWEEN 1 AND 100),
  size_bytes    INTEGER CHECK (size_bytes IS NULL OR size_bytes > 0),
  created_at    INTEGER NOT NULL,
  last_run_at   INTEGER,
  last_error    TEXT
) STRICT;

-- storage-wide settings (the thin-provisioning soft threshold the target applies to every LUN)
CREATE TABLE storage_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`,
  },
  {
    version: 3,
    name: 'portal groups with ALUA states, LUN presets',
    // RFC 7143 §4.4.1 / §13.9: a target's portal groups, each tag 1-65535 and unique within its target; SPC-4 §5.16:
    // one ALUA target port group per portal group, with its access state. Existing portals move into group 1.
    sql: `
CREATE TABLE portal_groups (
  id         INTEGER PRIMARY KEY,
  target_id  INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  tag        INTEGER NOT NULL CHECK (tag BETWEEN 1 AND 65535),
  alua_state TEXT NOT NULL DEFAULT 'active-optimized'
             CHECK (alua_state IN ('active-optimized', 'active-non-optimized', 'standby', 'unavailable')),
  UNIQUE (target_id, tag)
) STRICT;
INSERT INTO portal_groups (target_id, tag) SELECT id, 1 FROM targets;

-- every target starts with portal group 1, whoever creates it (API, config apply)
CREATE TRIGGER targets_first_portal_group AFTER INSERT ON targets
BEGIN
  INSERT INTO portal_groups (target_id, tag) VALUES (NEW.id, 1);
END;

CREATE TABLE portals_v4 (
  id              INTEGER PRIMARY KEY,
  target_id       INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  portal_group_id INTEGER NOT NULL REFERENCES portal_groups(id) ON DELETE CASCADE,
  address         TEXT NOT NULL,
  port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  UNIQUE (target_id, address, port)
) STRICT;
INSERT INTO portals_v4 (id, target_id, portal_group_id, address, port)
  SELECT p.id, p.target_id, g.id, p.address, p.port FROM portals p JOIN portal_groups g ON g.target_id = p.target_id AND g.tag = 1;
DROP TABLE portals;
ALTER TABLE portals_v4 RENAME TO portals;

-- RFC 7143 §4.4.1: a portal belongs to a portal group of its own target
CREATE TRIGGER portals_group_of_own_target BEFORE INSERT ON portals
WHEN (SELECT target_id FROM portal_groups WHERE id = NEW.portal_group_id) IS NOT NEW.target_id
BEGIN
  SELECT RAISE(ABORT, 'a portal belongs to a portal group of its own target');
END;
CREATE TRIGGER portals_group_of_own_target_update BEFORE UPDATE OF target_id, portal_group_id ON portals
WHEN (SELECT target_id FROM portal_groups WHERE id = NEW.portal_group_id) IS NOT NEW.target_id
BEGIN
  SELECT RAISE(ABORT, 'a portal belongs to a portal group of its own target');
END;

-- the hypervisor the LUN was set up for (the UI's presets); NULL = none chosen
ALTER TABLE luns ADD COLUMN preset TEXT CHECK (preset IN ('esxi', 'hyperv', 'xenserver', 'linux'));
`,
  },
] as const satisfies readonly Migration[];
