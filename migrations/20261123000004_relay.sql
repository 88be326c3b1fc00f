-- The relay's progress (EV-3). It resumes from the later of the stream's last message and
-- this checkpoint; the checkpoint alone covers events the relay parked.
create table relay_checkpoint (
  id boolean primary key default true check (id),
  tx_id bigint not null,
  position bigint not null,
  updated_at timestamptz not null default now()
);

-- Events the relay could not publish (over the stream's message size limit). Loud by
-- design: logged at error level, counted in /metrics, listed here for an operator.
create table relay_parked (
  position bigint primary key,
  tx_id bigint not null,
  event_id uuid not null,
  reason text not null,
  parked_at timestamptz not null default now()
);

grant select, insert, update on relay_checkpoint to docuvault_runtime;
grant select, insert on relay_parked to docuvault_runtime;
