-- Invitations (ADM-1): when self-registration is closed, an admin invites an address; the
-- emailed link lets exactly that address register, once, before it expires. Only the
-- token's SHA-256 and the address's keyed hash are kept.
create table invites (
  invite_id uuid primary key,
  token_hash bytea not null unique,
  email_lookup text not null,
  role text not null,
  invited_by uuid not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid
);

grant select, insert, update, delete on invites to docuvault_runtime;
