-- +goose Up
-- Secrets at rest: a channel's secret credentials and a webhook's signing secrets, sealed
-- (AES-256-GCM, package secret); NULL when there are none. The clear columns (credentials,
-- secret, previous_secret) keep what is not secret; rows from before hold their secrets there
-- until Baton seals them at start.

ALTER TABLE channels ADD COLUMN sealed_credentials bytea;
ALTER TABLE webhooks ADD COLUMN sealed_secrets bytea;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN sealed_secrets;
ALTER TABLE channels DROP COLUMN sealed_credentials;
