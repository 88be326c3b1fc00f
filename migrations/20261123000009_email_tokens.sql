-- Single-use links sent by email (AUTH-5, SECURITY 30): only the SHA-256 of each 256-bit
-- token is kept. A new link of a purpose voids the account's older unused ones.
create table email_tokens (
  token_hash bytea primary key,
  user_id uuid not null,
  -- verify_email | reset_password
  purpose text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index email_tokens_user on email_tokens (user_id, purpose, created_at desc);

grant select, insert, update, delete on email_tokens to docuvault_runtime;
