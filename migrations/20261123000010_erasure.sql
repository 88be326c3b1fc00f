-- Deleting an account frees its email address in the same transaction as the
-- `UserDeleted` event (the handle stays reserved: shares and history name it). The
-- per-user data key and second-factor secrets are deleted by the application right after.
create or replace function reserve_user_identity() returns trigger
  language plpgsql
  security definer
  set search_path = public, pg_temp
as $$
declare
  body jsonb;
begin
  if new.event_type = 'UserDeleted' then
    delete from email_reservations
     where user_id = (new.payload -> 'UserDeleted' ->> 'user_id')::uuid;
    return new;
  end if;
  body := new.payload -> 'UserRegistered';
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

drop trigger events_reserve_user_identity on events;
create trigger events_reserve_user_identity before insert on events
  for each row
  when (new.aggregate_type = 'user' and new.event_type in ('UserRegistered', 'UserDeleted'))
  execute function reserve_user_identity();

revoke all on function reserve_user_identity() from public;
