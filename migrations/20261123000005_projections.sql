-- Projection bookkeeping (EV-4, EV-5, EV-6). Each read model lives in a schema of its own
-- (`rm_<name>`), created by `docuvault migrate` from the projection's code and rebuilt
-- beside the live one by `docuvault replay`.

-- How far each read model has applied the log, in relay order, and the stream sequence of
-- that event so a builder taking over restarts its consumer just after it.
create table projection_checkpoints (
  projection text primary key,
  tx_id bigint not null default 0,
  position bigint not null default 0,
  stream_seq bigint not null default 0,
  schema_version integer not null,
  updated_at timestamptz not null default now()
);

-- The last sequence applied per aggregate, so a redelivered event is a no-op and a gap is
-- filled from the events table.
create table projection_aggregate_sequences (
  projection text not null,
  aggregate_type text not null,
  aggregate_id text not null,
  sequence bigint not null,
  primary key (projection, aggregate_type, aggregate_id)
);

-- Events a builder gave up on after its tries (poison or unknown). The checkpoint moves
-- past them so the read model keeps up; an operator reads and replays them.
create table projection_dead_letters (
  projection text not null,
  position bigint not null,
  tx_id bigint not null,
  event_id uuid not null,
  aggregate_type text not null,
  aggregate_id text not null,
  sequence bigint not null,
  event_type text not null,
  event_version text not null,
  error text not null,
  attempts integer not null,
  parked_at timestamptz not null default now(),
  primary key (projection, position)
);

grant select, insert, update, delete on projection_checkpoints to docuvault_runtime;
grant select, insert, update, delete on projection_aggregate_sequences to docuvault_runtime;
grant select, insert on projection_dead_letters to docuvault_runtime;
