-- Second factors (AUTH-4; SECURITY 5-7). Secrets never go into events: the TOTP seed is
-- sealed under the user's data key (AES-256-GCM; erasing the user shreds it) and the
-- recovery codes are kept as SHA-256 hashes. Enabling, disabling and regenerating are
-- recorded as user events in the same transaction (ADR 4).
create table totp_secrets (
  user_id uuid primary key,
  sealed_seed text not null,
  created_at timestamptz not null,
  -- NULL while enrolment waits for its first code.
  confirmed_at timestamptz,
  -- The last accepted time step: a code is accepted once, and only for a later step.
  last_step bigint not null default 0
);

create table recovery_codes (
  user_id uuid not null,
  code_hash bytea not null,
  created_at timestamptz not null,
  used_at timestamptz,
  primary key (user_id, code_hash)
);

grant select, insert, update, delete on totp_secrets, recovery_codes to docuvault_runtime;
