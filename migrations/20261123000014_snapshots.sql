-- Snapshots of aggregates whose history grows without bound (a person's storage): the
-- folded state at some sequence, so loading reads one row and the events after it instead
-- of every event. A cache, never a source of truth: written after the events commit, one
-- row per aggregate, replaced only by a later one, ignored when its shape is not the
-- aggregate's current one (`shape`), and safe to delete at any time. postgres-es's own
-- snapshot table (unused, empty) is replaced.
drop table snapshots;

create table snapshots (
  aggregate_type text not null,
  aggregate_id text not null,
  last_sequence bigint not null check (last_sequence > 0),
  shape integer not null,
  payload jsonb not null,
  taken_at timestamptz not null default now(),
  primary key (aggregate_type, aggregate_id)
);

grant select, insert, update on snapshots to docuvault_runtime;
