-- Changing an account's email: the link goes to the new address, which waits, sealed
-- under the account's data key, beside the token. The `EmailChanged` event reserves the
-- new address (DV002 when someone took it meanwhile) and frees the old one in its own
-- transaction.
alter table email_tokens add column pending_email text, add column pending_lookup text;

create or replace function reserve_user_identity() returns trigger
  language plpgsql
  security definer
  set search_path = public, pg_temp
as $$
declare
  body jsonb;
  changed jsonb := new.payload -> 'EmailChanged';
begin
  if new.event_type = 'UserDeleted' then
    delete from email_reservations
     where user_id = (new.payload -> 'UserDeleted' ->> 'user_id')::uuid;
    return new;
  end if;
  if changed is not null then
    begin
      insert into email_reservations (email_lookup, user_id)
        values (changed ->> 'email_lookup', (changed ->> 'user_id')::uuid);
    exception when unique_violation then
      raise exception 'email is taken' using errcode = 'DV002';
    end;
    delete from email_reservations
     where user_id = (changed ->> 'user_id')::uuid
       and email_lookup <> changed ->> 'email_lookup';
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
  when (new.aggregate_type = 'user'
        and new.event_type in ('UserRegistered', 'UserDeleted', 'EmailChanged'))
  execute function reserve_user_identity();

revoke all on function reserve_user_identity() from public;
