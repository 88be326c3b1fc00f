-- A random identity for this database. The relay stamps it on every message and refuses
-- to resume from a stream whose last message came from another database (one restored,
-- recreated or pointed at the same NATS prefix), which would make it skip events.
insert into instance_settings (name, value)
values ('instance_id', gen_random_uuid()::text)
on conflict (name) do nothing;
