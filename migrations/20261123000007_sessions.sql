-- Sign-in state (AUTH-2, AUTH-3, AUTH-6, AUTH-7). These tables are the write model of
-- sessions: rotation and revocation must be atomic compare-and-set updates, which an
-- event stream cannot give cheaply. Every security-relevant change to them is also
-- appended to `events` in the same transaction (aggregate types `session` and
-- `sign_in`), so the audit log misses nothing (ADR 4).

-- One row per sign-in: the refresh-token family. Access tokens name their session
-- (`sid`), and a revoked session refuses them at once.
create table auth_sessions (
  session_id uuid primary key,
  user_id uuid not null,
  created_at timestamptz not null,
  last_used_at timestamptz not null,
  -- Absolute expiry: refreshing never extends a session past it.
  expires_at timestamptz not null,
  revoked_at timestamptz,
  -- sign_out, sign_out_everywhere, token_reuse, password_changed, disabled, ...
  revoked_reason text,
  -- What the person signed in from, to recognise it in their sessions list.
  user_agent text not null default ''
);
create index auth_sessions_user on auth_sessions (user_id, created_at desc);

-- Refresh tokens: only their SHA-256 is kept. A token is used once; presenting a used
-- one again is theft (RFC 9700 4.14.2) and revokes its session.
create table refresh_tokens (
  token_hash bytea primary key,
  session_id uuid not null references auth_sessions (session_id) on delete cascade,
  issued_at timestamptz not null,
  -- Idle expiry: an unused token lapses.
  expires_at timestamptz not null,
  used_at timestamptz
);
create index refresh_tokens_session on refresh_tokens (session_id);

-- Failed attempts per bucket (an account, or a client address: IPv4, or IPv6 /64),
-- shared by every API instance. Delays grow with the failures and always end.
create table auth_throttle (
  bucket text primary key,
  failures integer not null,
  window_started_at timestamptz not null,
  blocked_until timestamptz
);

grant select, insert, update, delete on auth_sessions, refresh_tokens, auth_throttle
  to docuvault_runtime;

-- Sign-in finds the account by the keyed hash of its email.
grant select on email_reservations to docuvault_runtime;
