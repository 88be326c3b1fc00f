-- Projection bookkeeping (EV-4, EV-5). Each read model lives in a schema of its own
-- (`rm_<name>`) that holds its tables *and* its progress (`projection_state`,
-- `aggregate_sequences`), created by `docuvault migrate` from the projection's code. A
-- rebuild fills `rm_<name>_next` from the events table and swaps the schemas in one
-- transaction, so tables and progress always move together.

-- Events a builder gave up on after its tries (poison or unknown). Its progress moves past
-- them so the read model keeps up; an operator reads them here.
create table projection_dead_letters (
  projection text not null,
  position bigint not null,
  tx_id bigint not null,
  event_id uuid,
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

grant select, insert on projection_dead_letters to docuvault_runtime;
