-- API key types, as Binance issues them: HMAC (the exchange generates a secret, stored encrypted
-- in secret_enc), Ed25519 and RSA (the user registers a public key, stored as PEM in public_key;
-- no secret exists). Existing keys are HMAC keys.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS key_type TEXT NOT NULL DEFAULT 'HMAC';
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS public_key TEXT;
ALTER TABLE api_keys ALTER COLUMN secret_enc DROP NOT NULL;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_key_material CHECK (
    (key_type = 'HMAC' AND secret_enc IS NOT NULL AND public_key IS NULL)
    OR (key_type IN ('ED25519', 'RSA') AND secret_enc IS NULL AND public_key IS NOT NULL)
);
