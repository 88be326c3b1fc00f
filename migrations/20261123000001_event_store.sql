-- The event store: postgres-es's `events` table, extended so that events have a global
-- commit order the relay can follow, and a runtime role that can only append and read.
-- Never edit a migration that has been applied anywhere; add a new one.

-- The runtime role the application logs in with is a member of this group. It can insert
-- and read events, never update or delete them (EV-1, EV-2).
do $$
begin
  create role docuvault_runtime nologin;
exception when duplicate_object or unique_violation then
  -- Roles are cluster-wide: another database (or a parallel test) made it first.
  null;
end $$;

create table events (
  aggregate_type text not null,
  aggregate_id text not null,
  sequence bigint not null check (sequence >= 0),
  event_type text not null,
  event_version text not null,
  payload jsonb not null,
  metadata jsonb not null,
  -- Assigned at insert but visible at commit, so it alone cannot order a reader: the
  -- relay reads in (tx_id, position) order below the snapshot's xmin.
  position bigserial not null unique,
  tx_id xid8 not null default pg_current_xact_id(),
  event_id uuid not null default gen_random_uuid() unique,
  recorded_at timestamptz not null default now(),
  primary key (aggregate_type, aggregate_id, sequence)
);

create index events_relay_order on events (tx_id, position);

-- Wakes the relay at commit; it also polls, so a lost notification only costs latency.
create function events_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('dv_events', '');
  return null;
end $$;

create trigger events_notify after insert on events
  for each statement execute function events_notify();

revoke all on events from public;
grant select, insert on events to docuvault_runtime;
grant usage on sequence events_position_seq to docuvault_runtime;

-- postgres-es expects a snapshots table; DocuVault does not snapshot yet, so the runtime
-- gets no rights on it.
create table snapshots (
  aggregate_type text not null,
  aggregate_id text not null,
  last_sequence bigint not null check (last_sequence >= 0),
  current_snapshot bigint not null check (current_snapshot >= 0),
  payload jsonb not null,
  primary key (aggregate_type, aggregate_id, last_sequence)
);

-- One row of settings the process checks at start, e.g. the master key's fingerprint, so
-- a process started with the wrong key refuses to run instead of writing unreadable data.
create table instance_settings (
  name text primary key,
  value text not null
);
grant select, insert on instance_settings to docuvault_runtime;
