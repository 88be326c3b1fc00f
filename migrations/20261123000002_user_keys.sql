-- Per-user data keys (SECURITY 25, 29). Personal fields in events are sealed under them;
-- deleting a row shreds every such field of that user. Keys are wrapped by a key derived
-- from the master secret, so a database dump alone reveals nothing.
create table user_keys (
  user_id uuid primary key,
  wrapped_key text not null,
  created_at timestamptz not null default now()
);

grant select, insert, delete on user_keys to docuvault_runtime;
