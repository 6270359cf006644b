-- Bearer tokens: only the SHA-256 of a token is stored.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX tokens_tenant_id ON tokens (tenant_id);

-- Each tenant's external IDs, AES-256-GCM sealed (associated data: tenant + column).
-- `version` is the compare-and-swap counter of rotate, commit and cancel;
-- `pending_tested_version` is the version whose pending ID passed a connectivity test.
CREATE TABLE external_ids (
    tenant_id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    external_id BLOB NOT NULL,
    external_id_pending BLOB,
    pending_tested_version INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Each tenant's saved integration settings.
CREATE TABLE configs (
    tenant_id TEXT PRIMARY KEY NOT NULL,
    sso_instance_arn TEXT,
    role_arn TEXT,
    region TEXT,
    updated_at INTEGER NOT NULL
);
