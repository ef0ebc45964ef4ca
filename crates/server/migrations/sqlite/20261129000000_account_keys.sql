-- End-to-end encryption's account keys (docs/e2e-design.md, "Keys"). Keep in step with
-- migrations/postgres.

-- 'legacy': made before end-to-end encryption, signs in with the password itself;
-- 'e2e-v1': signs in with an auth secret derived from the password on the device.
ALTER TABLE accounts ADD COLUMN key_scheme TEXT NOT NULL DEFAULT 'legacy';
-- argon2id's salt (hex) and settings, handed to a device before it signs in.
ALTER TABLE accounts ADD COLUMN kdf_salt TEXT;
ALTER TABLE accounts ADD COLUMN kdf_memory_kib INTEGER;
ALTER TABLE accounts ADD COLUMN kdf_iterations INTEGER;
ALTER TABLE accounts ADD COLUMN kdf_parallelism INTEGER;
-- The data key sealed under the password's wrap secret (hex): useless without the password.
ALTER TABLE accounts ADD COLUMN wrapped_key TEXT;
-- SHA-256 of the recovery key's auth secret (256 random bits: nothing to guess, so no
-- slow hash), and the data key sealed under the recovery key's wrap secret.
ALTER TABLE accounts ADD COLUMN recovery_auth_hash TEXT;
ALTER TABLE accounts ADD COLUMN recovery_wrapped_key TEXT;

-- Secrets of this server itself: 'kdf-salt' makes the stable salts it answers for names
-- that have no account, so that the answer does not tell who has one.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
