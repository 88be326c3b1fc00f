-- Sharing by handle (ORG-3) finds the recipient's account by its handle, from the same
-- reservations registration writes (never a projection, which may lag a new account).
grant select on handle_reservations to docuvault_runtime;
