-- How each session was signed in, so routes that need a second factor (admin pages of an
-- admin who enrolled one) can tell.
alter table auth_sessions add column method text not null default 'password';
