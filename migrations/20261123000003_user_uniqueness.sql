-- Handles and emails are unique, enforced inside the very transaction that appends the
-- registration, never by checking a projection first (which races).
--
-- postgres-es turns every 23505 (unique_violation) into an optimistic-lock conflict and
-- drops the constraint's name, so the trigger raises codes of its own:
--   DV001  the handle is taken
--   DV002  the email is taken
-- user_id is not unique here: two racing commands on one aggregate must fail on the
-- events primary key (an optimistic-lock conflict), not look like a taken handle.
create table handle_reservations (
  handle text primary key,
  user_id uuid not null
);
create index handle_reservations_user on handle_reservations (user_id);

create table email_reservations (
  -- HMAC of the normalised email under a key derived from the master secret.
  email_lookup text primary key,
  user_id uuid not null
);
create index email_reservations_user on email_reservations (user_id);

create function reserve_user_identity() returns trigger
  language plpgsql
  -- Runs with the owner's rights: the runtime role cannot touch the reservations itself.
  security definer
  set search_path = public, pg_temp
as $$
declare
  body jsonb := new.payload -> 'UserRegistered';
begin
  if body is null then
    return new;
  end if;
  begin
    insert into handle_reservations (handle, user_id)
      values (body ->> 'handle', (body ->> 'user_id')::uuid);
  exception when unique_violation then
    raise exception 'handle % is taken', body ->> 'handle' using errcode = 'DV001';
  end;
  begin
    insert into email_reservations (email_lookup, user_id)
      values (body ->> 'email_lookup', (body ->> 'user_id')::uuid);
  exception when unique_violation then
    raise exception 'email is taken' using errcode = 'DV002';
  end;
  return new;
end $$;

create trigger events_reserve_user_identity before insert on events
  for each row
  when (new.aggregate_type = 'user' and new.event_type = 'UserRegistered')
  execute function reserve_user_identity();

revoke all on handle_reservations, email_reservations from public;
revoke all on function reserve_user_identity() from public;
